//! Reads the inbox and sent lists and sets read flags: `payamak inbox`, `inbox-count`,
//! `mark-read` and `mark-unread`.

use comfy_table::Cell;
use payamak::{Folder, Message, PanelDateTime};
use serde::Serialize;
use serde_json::json;

use super::check::confirm_empty_answer;
use super::Context;
use crate::args::{InboxArgs, InboxCountArgs, MarkArgs};
use crate::failure::{CliResult, Exit};

#[derive(Serialize)]
struct MessageJson {
    msg_id: i64,
    msg_type: u8,
    #[serde(serialize_with = "crate::dates::serialize")]
    date: PanelDateTime,
    sender: Option<String>,
    receiver: Option<String>,
    parts: i32,
    read: bool,
    body: Option<String>,
}

impl MessageJson {
    fn of(message: Message) -> Self {
        MessageJson {
            msg_id: message.msg_id,
            msg_type: message.msg_type,
            date: message.send_date,
            sender: message.sender,
            receiver: message.receiver,
            parts: message.parts,
            read: message.is_read,
            body: message.body,
        }
    }
}

/// The JSON document of `payamak inbox`.
#[derive(Serialize)]
struct InboxJson<'a> {
    folder: &'a str,
    from: Option<&'a str>,
    messages: &'a [MessageJson],
}

fn folder(args: &InboxArgs) -> (Folder, &'static str) {
    if args.new {
        (Folder::New, "new")
    } else if args.read {
        (Folder::ReceivedRead, "read")
    } else if args.sent_unread {
        (Folder::SentUnread, "sent_unread")
    } else if args.sent_read {
        (Folder::SentRead, "sent_read")
    } else {
        (Folder::ReceivedUnread, "unread")
    }
}

/// Lists messages.
pub async fn list(args: InboxArgs, context: &Context) -> CliResult {
    let (folder, name) = folder(&args);
    let output = &context.output;
    let session = context.connect().await?;
    let messages = session.client.messages(folder, args.from.as_deref()).await?;
    if folder == Folder::New {
        output.note(format!(
            "--new took {} message(s) off the panel's list of new messages: an application that polls for new \
             messages will not get them (they stay in the unread list)",
            messages.len()
        ));
    }
    if messages.is_empty() {
        confirm_empty_answer(&session, output, &format!("the list of {} messages is empty", name.replace('_', " ")))
            .await?;
    }
    let messages: Vec<MessageJson> = messages.into_iter().map(MessageJson::of).collect();
    if output.json {
        output.print_json(&InboxJson { folder: name, from: args.from.as_deref(), messages: &messages });
    } else if messages.is_empty() {
        output.print(format!("no messages ({})", name.replace('_', " ")));
    } else {
        let calendar = context.settings.calendar;
        let date_header = format!("date (Tehran, {})", calendar.name());
        let mut table = output.table(["id", &date_header, "from", "to", "parts", "read", "text"]);
        for message in &messages {
            table.add_row([
                Cell::new(message.msg_id),
                Cell::new(crate::dates::show(message.date, calendar)),
                Cell::new(message.sender.as_deref().unwrap_or("")),
                Cell::new(message.receiver.as_deref().unwrap_or("")),
                Cell::new(message.parts),
                Cell::new(if message.read { "yes" } else { "no" }),
                Cell::new(message.body.as_deref().unwrap_or("")),
            ]);
        }
        output.print_table(table);
    }
    Ok(Exit::Ok)
}

/// Counts read or unread messages.
pub async fn count(args: InboxCountArgs, context: &Context) -> CliResult {
    let session = context.connect().await?;
    let count = session.client.inbox_count(args.read).await?;
    let output = &context.output;
    if count == 0 {
        confirm_empty_answer(&session, output, "the inbox count is 0").await?;
    }
    if output.json {
        output.print_json(&json!({ "read": args.read, "count": count }));
    } else {
        let which = if args.read { "read" } else { "unread" };
        output.print(format!("{which} messages: {count}"));
    }
    Ok(Exit::Ok)
}

/// Marks messages read or unread.
pub async fn mark(args: MarkArgs, read: bool, context: &Context) -> CliResult {
    let session = context.connect().await?;
    if read {
        session.client.mark_read(&args.ids).await?;
    } else {
        session.client.mark_unread(&args.ids).await?;
    }
    let output = &context.output;
    if output.json {
        output.print_json(&json!({ "msg_ids": args.ids, "read": read }));
    } else {
        let which = if read { "read" } else { "unread" };
        output.print(format!("marked {} message(s) as {which}", args.ids.len()));
    }
    Ok(Exit::Ok)
}
