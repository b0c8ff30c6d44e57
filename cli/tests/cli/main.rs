//! Tests of the `payamak` command-line tool: the built binary, run against an
//! emulator started in this process.

mod support;

mod commands;

mod exit_codes;

mod settings;

mod send_bulk;

/// `send-bulk --journal` with attempts written ahead of their turn.
mod send_bulk_ahead;

mod send_bulk_store;

mod send_bulk_store_failures;

mod emulator_command;

mod credentials;

mod delivery;

mod safety;

mod shell;

mod campaign;

mod chaos;

mod scale;

mod otp;
