#!/usr/bin/env python3
"""Check wsdl/send.wsdl and wsdl/incoming_messages.wsdl with zeep, offline.

The expected contract (service-guide.md §3) is hard-coded below, so this fails when a WSDL drifts from it.
Checked for both services: the four bindings and ports, every operation in the SOAP 1.1 and SOAP 1.2
bindings (SOAPAction, document style, wrapper elements, parameter names, order, XSD types and occurs,
response elements), that zeep serialises each request as the wrapped document/literal body, the HTTP GET
and POST bindings (every operation except SendSms, locations, url-encoded parameter types, output
elements), the array, Message and PeriodType types, and the AbstractTypes schema.

Usage: check_wsdl.py [REPO_ROOT]   (default: this script's ../..)
Needs zeep (e.g. `python3 -m venv /tmp/zeepvenv && /tmp/zeepvenv/bin/pip install zeep`).
Prints one line per failure and a final line `N passed, M failed`; exits 1 if anything failed.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lxml import etree  # noqa: E402  (a zeep dependency)

from payamak_zeep import load_client  # noqa: E402

TNS = "http://tempuri.org/"
XSD = "http://www.w3.org/2001/XMLSchema"
ABSTRACT = "http://tempuri.org/AbstractTypes"
SOAPENC = "http://schemas.xmlsoap.org/soap/encoding/"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
PREFIXES = {"s": XSD, "tns": TNS, "s1": ABSTRACT}
NS = {"wsdl": WSDL_NS, "s": XSD}

# ----------------------------------------------------------------------------------------------------
# The expected contract (service-guide.md §3). (name, type, minOccurs, maxOccurs)
# ----------------------------------------------------------------------------------------------------

U = ("username", "s:string", 0, 1)
P = ("password", "s:string", 0, 1)
FROM = ("from", "s:string", 0, 1)
MSGS = "tns:ArrayOfMessage"


def res(op, typ):
    value = typ in ("s:int", "s:long", "s:double", "s:boolean")
    return (f"{op}Result", typ, 1 if value else 0, 1)


SERVICES = {
    "Send": {
        "file": "send.wsdl",
        "address": "http://87.107.121.52/post/send.asmx",
        "ops": [
            ("GetCredit", [U, P], [res("GetCredit", "s:double")]),
            ("GetInboxCount", [U, P, ("isRead", "s:boolean", 1, 1)], [res("GetInboxCount", "s:int")]),
            (
                "ScheduleSms",
                [U, P, ("to", "tns:ArrayOfString", 0, 1), ("from", "s:string", 0, 1), ("text", "s:string", 0, 1),
                 ("isflash", "s:boolean", 1, 1), ("scheduleDateTime", "s:dateTime", 1, 1),
                 ("period", "tns:PeriodType", 1, 1)],
                [res("ScheduleSms", "s:int")],
            ),
            ("GetDelivery", [("recId", "s:long", 1, 1)], [res("GetDelivery", "s:int")]),
            ("UpdateDelivery", [("recId", "s:long", 1, 1)], [res("UpdateDelivery", "s:int")]),
            (
                "SendSms",
                [U, P, ("to", "tns:ArrayOfString", 0, 1), ("from", "s:string", 0, 1), ("text", "s:string", 0, 1),
                 ("isflash", "s:boolean", 1, 1), ("udh", "s:string", 0, 1), ("recId", "tns:ArrayOfLong", 0, 1),
                 ("status", "s:base64Binary", 0, 1)],
                [res("SendSms", "s:int"), ("recId", "tns:ArrayOfLong", 0, 1), ("status", "s:base64Binary", 0, 1)],
            ),
        ],
        "not_http": {"SendSms"},
        "abstract_types": True,
    },
    "IncomingMessages": {
        "file": "incoming_messages.wsdl",
        "address": "http://87.107.121.52/post/IncomingMessages.asmx",
        "ops": [
            ("GetNewMessagesList", [U, P, FROM], [res("GetNewMessagesList", MSGS)]),
            ("GetReceiveSMSIsNotReadList", [U, P, FROM], [res("GetReceiveSMSIsNotReadList", MSGS)]),
            ("GetReceiveSMSIsReadList", [U, P, FROM], [res("GetReceiveSMSIsReadList", MSGS)]),
            ("GetSentSMSIsNotReadList", [U, P, FROM], [res("GetSentSMSIsNotReadList", MSGS)]),
            ("GetSentSMSIsReadList", [U, P, FROM], [res("GetSentSMSIsReadList", MSGS)]),
            ("GetUserNumbersList", [U, P], [res("GetUserNumbersList", "tns:ArrayOfString")]),
            ("UpdateMessagesIsNotRead", [U, P, ("msgIds", "s:string", 0, 1)], [res("UpdateMessagesIsNotRead", "s:int")]),
            ("UpdateMessagesIsRead", [U, P, ("msgIds", "s:string", 0, 1)], [res("UpdateMessagesIsRead", "s:int")]),
        ],
        "not_http": set(),
        # No array parameter reaches the HTTP bindings, so ASMX emits no AbstractTypes schema (as receive.asmx).
        "abstract_types": False,
    },
}

# Global element ASMX appends for each HTTP output type: return type -> (element name, nillable)
HTTP_OUT_ELEMENT = {
    "s:double": ("double", False),
    "s:int": ("int", False),
    "s:string": ("string", True),
    "tns:ArrayOfString": ("ArrayOfString", True),
    "tns:ArrayOfMessage": ("ArrayOfMessage", True),
}

# Complex types: name -> [(child, type, min, max, nillable)]
COMPLEX_TYPES = {
    "Send": {
        "ArrayOfString": [("string", "s:string", 0, "unbounded", True)],
        "ArrayOfLong": [("long", "s:long", 0, "unbounded", False)],
    },
    "IncomingMessages": {
        "ArrayOfString": [("string", "s:string", 0, "unbounded", True)],
        "ArrayOfMessage": [("Message", "tns:Message", 0, "unbounded", True)],
        "Message": [
            ("MsgID", "s:long", 1, 1, False),
            ("MsgType", "s:unsignedByte", 1, 1, False),
            ("Body", "s:string", 0, 1, False),
            ("SendDate", "s:dateTime", 1, 1, False),
            ("Sender", "s:string", 0, 1, False),
            ("Receiver", "s:string", 0, 1, False),
            ("Parts", "s:int", 1, 1, False),
            ("IsRead", "s:boolean", 1, 1, False),
        ],
    },
}

PERIOD_TYPE = ["Once", "Daily", "Weekly", "Monthly", "Yearly", "Custom"]

SAMPLE = {
    "s:string": "x",
    "s:boolean": True,
    "s:long": 1234567890123,
    "s:int": 1,
    "s:dateTime": datetime.datetime(2024, 1, 31, 14, 30),
    "s:base64Binary": b"\x00",
    "tns:PeriodType": "Once",
    "tns:ArrayOfString": {"string": ["09120000000", "09350000000"]},
    "tns:ArrayOfLong": {"long": [0]},
}


def qn(spec: str) -> str:
    prefix, local = spec.split(":", 1)
    return f"{{{PREFIXES[prefix]}}}{local}"


# ----------------------------------------------------------------------------------------------------


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}" + (f"\n      {detail}" if detail else ""))
        return ok

    def equal(self, got, want, what: str) -> bool:
        if got == want:
            return self.check(True, what)
        if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
            lines = [f"[{i}] expected {w!r}\n      [{i}] got      {g!r}"
                     for i, (g, w) in enumerate(zip(got, want)) if g != w]
            return self.check(False, what, "\n      ".join(lines))
        return self.check(False, what, f"expected {want!r}\n      got      {got!r}")


def element_sig(elements):
    """[(name, type qname, min, max)] of zeep (name, Element) pairs."""
    out = []
    for name, el in elements:
        tq = el.type.qname
        out.append((name, str(tq) if tq is not None else None, el.min_occurs, el.max_occurs))
    return out


def expected_sig(children):
    return [(n, qn(t), mn, mx) for (n, t, mn, mx) in children]


def check_service(c: Checker, svc_name: str, spec: dict, wsdl_dir: Path) -> None:
    path = wsdl_dir / spec["file"]
    tag = spec["file"]
    try:
        client = load_client(path)
    except Exception as exc:  # noqa: BLE001
        c.check(False, f"{tag}: zeep loads the WSDL offline", f"{type(exc).__name__}: {exc}")
        return
    c.check(True, f"{tag}: zeep loads the WSDL offline")
    doc = etree.parse(str(path))
    root = doc.getroot()
    c.equal(root.get("targetNamespace"), TNS, f"{tag}: targetNamespace")

    ops = spec["ops"]
    op_names = [o[0] for o in ops]
    http_names = [o for o in op_names if o not in spec["not_http"]]

    # bindings and service
    kinds = {"Soap": "Soap11Binding", "Soap12": "Soap12Binding", "HttpGet": "HttpGetBinding",
             "HttpPost": "HttpPostBinding"}
    want_bindings = {f"{{{TNS}}}{svc_name}{k}": cls for k, cls in kinds.items()}
    got_bindings = {k: type(v).__name__ for k, v in client.wsdl.bindings.items()}
    c.equal(got_bindings, want_bindings, f"{tag}: bindings and their kinds")
    c.equal(list(client.wsdl.services.keys()), [svc_name], f"{tag}: service name")
    service = client.wsdl.services.get(svc_name)
    if service is not None:
        ports = [(p.name, str(p.binding.name), p.binding_options.get("address")) for p in service.ports.values()]
        want_ports = [(f"{svc_name}{k}", f"{{{TNS}}}{svc_name}{k}", spec["address"]) for k in kinds]
        c.equal(ports, want_ports, f"{tag}: service ports, bindings and addresses")

    # portType operation order (ASMX emits the class's method order; the project uses the guide's order)
    for pt_name, names in ((f"{svc_name}Soap", op_names), (f"{svc_name}HttpGet", http_names),
                           (f"{svc_name}HttpPost", http_names)):
        got = root.xpath(f"wsdl:portType[@name='{pt_name}']/wsdl:operation/@name", namespaces=NS)
        c.equal(list(got), names, f"{tag}: portType {pt_name} operations in order")

    # SOAP 1.1 and SOAP 1.2 bindings
    for kind in ("Soap", "Soap12"):
        bname = f"{{{TNS}}}{svc_name}{kind}"
        binding = client.wsdl.bindings.get(bname)
        if binding is None:
            c.check(False, f"{tag}: binding {svc_name}{kind} present")
            continue
        c.equal(list(binding._operations.keys()), op_names, f"{tag}: {svc_name}{kind} operations (exactly, in order)")
        port_name = f"{svc_name}{kind}"
        bound = client.bind(svc_name, port_name)
        for op_name, params, results in ops:
            where = f"{tag}: {svc_name}{kind}.{op_name}"
            op = binding._operations.get(op_name)
            if op is None:
                c.check(False, f"{where} present")
                continue
            c.equal(op.soapaction, f"http://tempuri.org/{op_name}", f"{where} SOAPAction")
            c.equal(op.style, "document", f"{where} style")
            body_in = op.input.body
            c.equal(str(body_in.qname), f"{{{TNS}}}{op_name}", f"{where} request wrapper element")
            c.equal(element_sig(body_in.type.elements), expected_sig(params),
                    f"{where} request children (name, type, minOccurs, maxOccurs)")
            body_out = op.output.body
            c.equal(str(body_out.qname), f"{{{TNS}}}{op_name}Response", f"{where} response wrapper element")
            c.equal(element_sig(body_out.type.elements), expected_sig(results),
                    f"{where} response children (name, type, minOccurs, maxOccurs)")
            # zeep serialises the request as the wrapped document/literal body, children in order
            try:
                args = {n: SAMPLE[t] for (n, t, _, _) in params}
                env = client.create_message(bound, op_name, **args)
                body = env.find("{*}Body")
                wrapper = body[0]
                got = (wrapper.tag, [ch.tag for ch in wrapper])
                want = (f"{{{TNS}}}{op_name}", [f"{{{TNS}}}{n}" for (n, _, _, _) in params])
                c.equal(got, want, f"{where} serialised request body")
            except Exception as exc:  # noqa: BLE001
                c.check(False, f"{where} serialised request body", f"{type(exc).__name__}: {exc}")

    # HTTP GET and POST bindings: every operation except those with ref parameters
    for kind, msg_cls in (("HttpGet", "UrlEncoded"), ("HttpPost", "MimeContent")):
        bname = f"{{{TNS}}}{svc_name}{kind}"
        binding = client.wsdl.bindings.get(bname)
        if binding is None:
            c.check(False, f"{tag}: binding {svc_name}{kind} present")
            continue
        c.equal(list(binding._operations.keys()), http_names,
                f"{tag}: {svc_name}{kind} operations (all but {sorted(spec['not_http']) or 'none'}, in order)")
        for excluded in sorted(spec["not_http"]):
            c.check(excluded not in binding._operations, f"{tag}: {svc_name}{kind} lacks {excluded} (ref parameters)")
        for op_name, params, results in ops:
            if op_name in spec["not_http"]:
                continue
            where = f"{tag}: {svc_name}{kind}.{op_name}"
            op = binding._operations.get(op_name)
            if op is None:
                c.check(False, f"{where} present")
                continue
            c.equal(op.location, f"/{op_name}", f"{where} location")
            c.equal(type(op.input).__name__, msg_cls, f"{where} input encoding")
            want_parts = [(n, f"{{{ABSTRACT}}}StringArray" if t.startswith("tns:ArrayOf") else f"{{{XSD}}}string")
                          for (n, t, _, _) in params]
            got_parts = [(n, str(el.type.qname)) for n, el in op.input.body.type.elements]
            c.equal(got_parts, want_parts, f"{where} input parts (name, type)")
            out_name, out_nillable = HTTP_OUT_ELEMENT[results[0][1]]
            out_body = op.output.body
            got_out = (type(op.output).__name__, str(out_body.qname), str(out_body.type.qname), out_body.nillable)
            want_out = ("MimeXML", f"{{{TNS}}}{out_name}", qn(results[0][1]), out_nillable)
            c.equal(got_out, want_out, f"{where} output (mimeXml Body element, type, nillable)")

    # global elements for the HTTP outputs, in first-use order, at the end of the schema
    want_globals = []
    for op_name, params, results in ops:
        if op_name in spec["not_http"]:
            continue
        name = HTTP_OUT_ELEMENT[results[0][1]][0]
        if name not in want_globals:
            want_globals.append(name)
    op_elems = {o for o in op_names} | {f"{o}Response" for o in op_names}
    schema = root.find(f"wsdl:types/s:schema[@targetNamespace='{TNS}']", NS)
    got_globals = [e.get("name") for e in schema.findall("s:element", NS) if e.get("name") not in op_elems]
    c.equal(got_globals, want_globals, f"{tag}: trailing global elements for HTTP outputs")
    c.equal(schema.get("elementFormDefault"), "qualified", f"{tag}: elementFormDefault")

    # complex types
    for tname, fields in COMPLEX_TYPES[svc_name].items():
        try:
            t = client.wsdl.types.get_type(f"{{{TNS}}}{tname}")
        except Exception as exc:  # noqa: BLE001
            c.check(False, f"{tag}: type {tname} present", f"{type(exc).__name__}: {exc}")
            continue
        got = [(n, str(el.type.qname), el.min_occurs, el.max_occurs, el.nillable) for n, el in t.elements]
        want = [(n, qn(ty), mn, mx, nil) for (n, ty, mn, mx, nil) in fields]
        c.equal(got, want, f"{tag}: type {tname} children (name, type, min, max, nillable)")

    # PeriodType (zeep keeps no enumeration facets: read them from the document)
    if svc_name == "Send":
        values = root.xpath(
            "wsdl:types/s:schema/s:simpleType[@name='PeriodType']/s:restriction[@base='s:string']/s:enumeration/@value",
            namespaces=NS,
        )
        c.equal(list(values), PERIOD_TYPE, f"{tag}: PeriodType enumeration")

    # AbstractTypes schema (StringArray, soapenc import)
    abstract = root.find(f"wsdl:types/s:schema[@targetNamespace='{ABSTRACT}']", NS)
    if spec["abstract_types"]:
        ok = abstract is not None and abstract.find(f"s:import[@namespace='{SOAPENC}']", NS) is not None
        c.check(ok, f"{tag}: AbstractTypes schema imports {SOAPENC}")
        try:
            sa = client.wsdl.types.get_type(f"{{{ABSTRACT}}}StringArray")
            got = [(n, str(el.type.qname), el.max_occurs) for n, el in sa.elements]
            c.equal(got, [("String", f"{{{XSD}}}string", "unbounded")], f"{tag}: StringArray items")
            c.check("arrayType" in dict(sa.attributes), f"{tag}: StringArray has soapenc:arrayType (from soapenc:Array)")
        except Exception as exc:  # noqa: BLE001
            c.check(False, f"{tag}: StringArray present", f"{type(exc).__name__}: {exc}")
    else:
        c.check(abstract is None, f"{tag}: no AbstractTypes schema (no array parameter in the HTTP bindings)")

    # no wsdl:documentation anywhere
    c.equal(len(root.xpath("//wsdl:documentation", namespaces=NS)), 0, f"{tag}: no wsdl:documentation")


def main(argv: list[str]) -> int:
    repo = Path(argv[1]).resolve() if len(argv) > 1 else HERE.parent.parent
    wsdl_dir = repo / "wsdl"
    c = Checker()
    for svc_name, spec in SERVICES.items():
        try:
            check_service(c, svc_name, spec, wsdl_dir)
        except Exception as exc:  # noqa: BLE001  (a WSDL too broken to inspect further)
            c.check(False, f"{spec['file']}: inspection stopped", f"{type(exc).__name__}: {exc}")
    total_ops = sum(len(s["ops"]) for s in SERVICES.values())
    c.equal(total_ops, 14, "14 operations expected in total")
    print(f"{c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
