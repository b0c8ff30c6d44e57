"""zeep's side of the generator's round-trip tests (tests/it/zeep_roundtrip.rs).

Reads one JSON object on stdin:
  {"wsdl": PATH, "operation": NAME, "args": {...}, "response": ENVELOPE, "reply": BOOL}
and prints one JSON object:
  {"request": the request envelope zeep builds from args,
   "response": the values zeep reads from the response envelope (the payload's content; with
   "reply", what the operation's output message makes of the whole body, as zeep returns it
   from a call: document/literal bare and multi-part messages)}.
JSON stand-ins for other types, both ways: {"decimal": "1.50"}, {"bytes": [0, 1]},
{"integer": "..."} for integers beyond 64 bits, and {"xml": "<e/>"} for elements (xs:any).
Dates, times and durations are their XML Schema text.
"""

import datetime
import decimal
import json
import os
import sys

import isodate
from lxml import etree
from zeep.helpers import serialize_object

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payamak_zeep import load_client  # noqa: E402


def to_python(value):
    if isinstance(value, dict) and set(value) == {"decimal"}:
        return decimal.Decimal(value["decimal"])
    if isinstance(value, dict) and set(value) == {"bytes"}:
        return bytes(value["bytes"])
    if isinstance(value, dict) and set(value) == {"integer"}:
        return int(value["integer"])
    if isinstance(value, dict) and set(value) == {"xml"}:
        return etree.fromstring(value["xml"])
    if isinstance(value, dict):
        return {key: to_python(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_python(item) for item in value]
    return value


def to_json(value):
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return {"integer": str(value)}
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, bytes):
        return {"bytes": list(value)}
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (isodate.Duration, datetime.timedelta)):
        return isodate.duration_isoformat(value)
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, etree._Element):
        return etree.tostring(value, encoding="unicode")
    return value


def main():
    call = json.load(sys.stdin)
    client = load_client(call["wsdl"])
    message = client.create_message(client.service, call["operation"], **to_python(call["args"]))
    envelope = etree.fromstring(call["response"].encode("utf-8"))
    if call.get("reply"):
        values = client.service._binding._operations[call["operation"]].process_reply(envelope)
    else:
        body = next(child for child in envelope if etree.QName(child).localname == "Body")
        payload = body[0]
        element = client.get_element(etree.QName(payload).text)
        values = element.parse(payload, client.wsdl.types)
    print(json.dumps({
        "request": etree.tostring(message, encoding="unicode"),
        "response": to_json(serialize_object(values, dict)),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
