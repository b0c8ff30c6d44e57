"""Print, as JSON, the request envelopes zeep builds for the calls in a JSON file.

Usage: envelopes.py REPO_ROOT CALLS_JSON
Output: a JSON list with one object per call and SOAP version:
  {"operation": ..., "version": "1.1" | "1.2", "envelope": "<soap-env:Envelope ...>"}
The Rust tests compare these with payamak's own envelopes as canonical XML.
"""

import base64
import datetime
import json
import os
import sys

from lxml import etree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payamak_zeep import load_client  # noqa: E402

WSDL_FILES = {"Send": "send.wsdl", "IncomingMessages": "incoming_messages.wsdl"}


def convert(value):
    """JSON stand-ins for values JSON cannot carry."""
    if isinstance(value, dict) and set(value) == {"bytes"}:
        return bytes(value["bytes"])
    if isinstance(value, dict) and set(value) == {"datetime"}:
        return datetime.datetime.fromisoformat(value["datetime"])
    if isinstance(value, dict):
        return {key: convert(item) for key, item in value.items()}
    if isinstance(value, list):
        return [convert(item) for item in value]
    return value


def main():
    root, calls_path = sys.argv[1], sys.argv[2]
    with open(calls_path, encoding="utf-8") as handle:
        calls = json.load(handle)
    clients = {}
    out = []
    for call in calls:
        service = call["service"]
        if service not in clients:
            clients[service] = load_client(os.path.join(root, "wsdl", WSDL_FILES[service]))
        client = clients[service]
        for version, port in (("1.1", service + "Soap"), ("1.2", service + "Soap12")):
            proxy = client.bind(service, port)
            message = client.create_message(proxy, call["operation"], **convert(call["args"]))
            out.append({
                "operation": call["operation"],
                "version": version,
                "envelope": etree.tostring(message, encoding="unicode"),
            })
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
