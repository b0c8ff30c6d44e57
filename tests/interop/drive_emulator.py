"""Drive a running payamak emulator with zeep, through its own ?WSDL documents.

Usage: drive_emulator.py BASE_URL
BASE_URL is the emulator's `.../post/` prefix. The emulator must have the
accounts `zeep11` and `zeep12` (password `zeep`, sender number 5000123456,
credit 1000, price 1 per part), each with one received message injected from
09351112233 whose text is "سلام از زیپ".

Every operation of both services is called once per SOAP version, and each
result is checked. Prints `N passed, M failed` last and exits non-zero on failure.
"""

import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payamak_zeep import load_client  # noqa: E402

PERSIAN = "سلام از زیپ"
results = {"passed": 0, "failed": 0}


def check(label, actual, expected):
    if actual == expected:
        results["passed"] += 1
    else:
        results["failed"] += 1
        print(f"FAIL {label}: expected {expected!r}, got {actual!r}")


def rows(result):
    """The Message rows of an ArrayOfMessage result (None when empty)."""
    return list(result or [])


def drive(base, version):
    user = "zeep11" if version == "1.1" else "zeep12"
    suffix = "Soap" if version == "1.1" else "Soap12"
    creds = {"username": user, "password": "zeep"}
    send = load_client(base + "send.asmx?WSDL").bind("Send", "Send" + suffix)
    inbox = load_client(base + "IncomingMessages.asmx?WSDL").bind("IncomingMessages", "IncomingMessages" + suffix)
    tag = f"[SOAP {version}]"

    check(f"{tag} GetCredit", send.GetCredit(**creds), 1000.0)
    check(f"{tag} GetCredit wrong password", send.GetCredit(username=user, password="nope"), 0.0)
    check(f"{tag} GetUserNumbersList", list(inbox.GetUserNumbersList(**creds)), ["5000123456"])

    sent = send.SendSms(
        **creds, to={"string": ["09121234567", "09127654321"]}, **{"from": "5000123456"},
        text="درود بر شما", isflash=False, udh="", recId={"long": [0]}, status=b"\x00",
    )
    check(f"{tag} SendSms result", sent.SendSmsResult, 1)
    rec_ids = list(sent.recId.long) if sent.recId is not None else []
    check(f"{tag} SendSms recIds", len(rec_ids), 2)
    check(f"{tag} SendSms status bytes", sent.status, b"\x00\x00")
    check(f"{tag} GetCredit after send", send.GetCredit(**creds), 998.0)
    check(f"{tag} GetDelivery", send.GetDelivery(recId=rec_ids[0]), 0)
    check(f"{tag} UpdateDelivery", send.UpdateDelivery(recId=rec_ids[0]), 1)
    check(f"{tag} UpdateDelivery again", send.UpdateDelivery(recId=rec_ids[1]), 100)
    check(f"{tag} UpdateDelivery unknown", send.UpdateDelivery(recId=1), 0)

    later = datetime.datetime.now() + datetime.timedelta(days=1)
    scheduled = send.ScheduleSms(
        **creds, to={"string": ["09121234567"]}, **{"from": "5000123456"},
        text="فردا", isflash=False, scheduleDateTime=later, period="Once",
    )
    check(f"{tag} ScheduleSms", scheduled, 1)

    check(f"{tag} GetInboxCount unread", send.GetInboxCount(**creds, isRead=False), 1)
    new = rows(inbox.GetNewMessagesList(**creds, **{"from": ""}))
    check(f"{tag} GetNewMessagesList count", len(new), 1)
    check(f"{tag} GetNewMessagesList Persian body", new[0].Body if new else None, PERSIAN)
    check(f"{tag} GetNewMessagesList sender", new[0].Sender if new else None, "09351112233")
    check(f"{tag} GetNewMessagesList again", len(rows(inbox.GetNewMessagesList(**creds, **{"from": ""}))), 0)
    unread = rows(inbox.GetReceiveSMSIsNotReadList(**creds, **{"from": ""}))
    check(f"{tag} GetReceiveSMSIsNotReadList", [m.Body for m in unread], [PERSIAN])
    msg_id = unread[0].MsgID if unread else 0
    check(f"{tag} UpdateMessagesIsRead", inbox.UpdateMessagesIsRead(**creds, msgIds=str(msg_id)), 1)
    check(f"{tag} GetReceiveSMSIsReadList", [m.MsgID for m in rows(inbox.GetReceiveSMSIsReadList(**creds, **{"from": ""}))], [msg_id])
    check(f"{tag} GetInboxCount read", send.GetInboxCount(**creds, isRead=True), 1)
    check(f"{tag} UpdateMessagesIsNotRead", inbox.UpdateMessagesIsNotRead(**creds, msgIds=str(msg_id)), 1)
    check(f"{tag} GetReceiveSMSIsReadList after unread", len(rows(inbox.GetReceiveSMSIsReadList(**creds, **{"from": ""}))), 0)
    outbox = rows(inbox.GetSentSMSIsNotReadList(**creds, **{"from": "5000123456"}))
    check(f"{tag} GetSentSMSIsNotReadList", sorted(m.Receiver for m in outbox), ["09121234567", "09127654321"])
    check(f"{tag} GetSentSMSIsReadList", len(rows(inbox.GetSentSMSIsReadList(**creds, **{"from": ""}))), 0)
    check(f"{tag} UpdateMessagesIsRead wrong password", inbox.UpdateMessagesIsRead(username=user, password="x", msgIds="1"), 0)


def main():
    base = sys.argv[1]
    if not base.endswith("/"):
        base += "/"
    for version in ("1.1", "1.2"):
        drive(base, version)
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
