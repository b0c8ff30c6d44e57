//! Tests of the `payamak` command-line tool: the built binary, run against an
//! emulator started in this process.

#![cfg(all(feature = "cli", feature = "emulator"))]

#[path = "cli/support.rs"]
mod support;

#[path = "cli/commands.rs"]
mod commands;

#[path = "cli/exit_codes.rs"]
mod exit_codes;

#[path = "cli/settings.rs"]
mod settings;

#[path = "cli/send_bulk.rs"]
mod send_bulk;

#[path = "cli/emulator_command.rs"]
mod emulator_command;
