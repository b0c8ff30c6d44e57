//! Serves an emulator of the panel until Ctrl-C: `payamak emulator`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use anyhow::Context as _;
use payamak_emulator::{Emulator, ADMIN_ENDPOINTS, DEMO_PASSWORD, DEMO_USERNAME};
use serde::Serialize;

use super::Context;
use crate::args::EmulatorArgs;
use crate::failure::{CliResult, Exit, Failure};

#[derive(Serialize)]
struct AdminJson {
    enabled: bool,
    endpoints: Vec<AdminEndpointJson>,
}

#[derive(Serialize)]
struct AdminEndpointJson {
    method: &'static str,
    url: String,
    body: Option<&'static str>,
    summary: &'static str,
}

#[derive(Serialize)]
struct AccountJson {
    username: String,
    credit: f64,
    senders: Vec<String>,
}

/// Serves an emulator until Ctrl-C.
pub async fn run(args: EmulatorArgs, context: &Context) -> CliResult {
    let builder = Emulator::builder();
    let builder = match &args.accounts {
        Some(path) => builder.accounts_file(path).map_err(|error| Failure::usage(error.to_string()))?,
        None => builder,
    };
    let emulator = builder.admin_endpoints(!args.no_admin).build();
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| {
            format!("cannot listen on {} (try another --listen address; port 0 picks a free one)", args.listen)
        })
        .map_err(|error| Failure::with_exit(Exit::Usage, error))?;
    let local = listener.local_addr().context("cannot read the listening address")?;
    let origin = format!("http://{}", reachable(local));
    let base_url = format!("{origin}/post/");
    let admin = AdminJson {
        enabled: !args.no_admin,
        endpoints: if args.no_admin {
            Vec::new()
        } else {
            ADMIN_ENDPOINTS
                .iter()
                .map(|endpoint| AdminEndpointJson {
                    method: endpoint.method,
                    url: format!("{origin}{}", endpoint.path),
                    body: Some(endpoint.body).filter(|body| !body.is_empty()),
                    summary: endpoint.summary,
                })
                .collect()
        },
    };
    let handle = emulator.handle();
    let accounts: Vec<AccountJson> = handle
        .usernames()
        .into_iter()
        .filter_map(|username| handle.account_snapshot(&username))
        .map(|snapshot| AccountJson { username: snapshot.username, credit: snapshot.credit, senders: snapshot.senders })
        .collect();

    let output = &context.output;
    if !local.ip().is_loopback() {
        output.warn(format!(
            "listening on {local}, which other machines can reach: the emulator checks passwords but is no real \
             panel (the demo account's password is {DEMO_PASSWORD}){}; prefer --listen 127.0.0.1:PORT",
            if args.no_admin {
                ""
            } else {
                ", and its admin endpoints let anyone inject messages or reset it (--no-admin turns them off)"
            }
        ));
    }
    if output.json {
        output.print_json(&serde_json::json!({ "base_url": base_url, "accounts": accounts, "admin": admin }));
    } else {
        output.print(format!("payamak emulator listening on {local}"));
        output.print(format!("base URL: {base_url}"));
        for account in &accounts {
            let password =
                if account.username == DEMO_USERNAME { format!(", password {DEMO_PASSWORD}") } else { String::new() };
            output.print(format!(
                "account: user {}{password}, credit {}, sender numbers {}",
                account.username,
                account.credit,
                account.senders.join(", ")
            ));
        }
        if accounts.iter().any(|account| account.username == DEMO_USERNAME) {
            output.print(format!(
                "try: payamak --endpoint {base_url} --user {DEMO_USERNAME} --password {DEMO_PASSWORD} credit"
            ));
        }
        print_admin(output, &admin);
        output.print("State is kept in memory only. Press Ctrl-C to stop.");
    }
    emulator
        .serve_with_shutdown(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|error| Failure::with_exit(Exit::Transport, anyhow::anyhow!("the emulator stopped: {error}")))?;
    if !output.json {
        crate::stderr_line!("stopped");
    }
    Ok(Exit::Ok)
}

/// The admin endpoints, one per line.
fn print_admin(output: &crate::output::Output, admin: &AdminJson) {
    if !admin.enabled {
        output.print("admin API: off (--no-admin)");
        return;
    }
    output.print("admin API (JSON; POST bodies need Content-Type: application/json):");
    for endpoint in &admin.endpoints {
        let body = endpoint.body.map_or_else(String::new, |body| format!(" {body}"));
        output.print(format!("  {:<4} {}{body}", endpoint.method, endpoint.url));
        output.print(format!("       {}", endpoint.summary));
    }
}

/// The address clients use: an unspecified bind address is reached through loopback.
fn reachable(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), local.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), local.port()),
        _ => local,
    }
}
