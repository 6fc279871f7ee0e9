#!/usr/bin/env python3
"""Holds the exchanges the emulator recorded (TVPASS_EMULATOR_EXCHANGES) to the contract in
contract.json.

Every answer must carry a status its operation documents, with the documented media type and a
body that validates against the operation's schema for that status. Every request the SDK sent
must carry the headers the operation marks required, the documented query parameters, and a body
of the documented media type that validates. Requests of the emulator's own suites (tvpass-emulator/*),
which send bad input on purpose, are held to nothing; their answers are held like every other.

Answers to faults injected on purpose to break the contract (a dropped connection, a cut or
oversized body, HTML or XML where JSON belongs, a status the operation does not document, the
top-level form of a decision error) are counted and left out; a documented status (REST API V2's
500), the throttle's 429 and a delay are answers of the service and are checked.

The CLI's doctor probes the service without credentials on purpose (User-Agent tvpass-doctor/*):
its requests are held to nothing, its answers like every other.

A violation names the suite, the operation, the status, the part (answer or request), the field
(a JSON path) and the rule. Every operation of the contract must have been exercised at least once.

Usage: check.py DIR_OR_FILE...   |   check.py --self-test
Needs the jsonschema package (4.18 or newer).
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

HERE = Path(__file__).resolve().parent
CONTRACT_URI = "urn:tvpass:contract"
# Faults whose answers are the service's own kind of answer, and stay checked.
CHECKED_FAULTS = {None, "throttle", "delay"}
# Suites that send bad requests on purpose: their requests are not the SDK's.
RAW_SUITES = ("tvpass-emulator/",)
# Requests that are not the SDK's: the CLI's doctor probes the service without credentials.
RAW_USER_AGENTS = ("tvpass-doctor/",)


def media(content_type):
    return (content_type or "").split(";")[0].strip().lower() or None


class Contract:
    def __init__(self, path=HERE / "contract.json"):
        self.doc = json.loads(Path(path).read_text())
        resource = DRAFT202012.create_resource(self.doc)
        self.registry = Registry().with_resource(CONTRACT_URI, resource)
        self.validators = {}
        self.ops = []
        for op in self.doc["operations"]:
            literal = len(re.sub(r"\{[^}]+\}", "", op["path"]))
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op["path"])) + "$"
            self.ops.append((literal, re.compile(pattern), op))
        # The most literal template wins where two match.
        self.ops.sort(key=lambda t: -t[0])

    def operation(self, method, path):
        for _, pattern, op in self.ops:
            if op["method"] == method and pattern.match(path):
                return op
        return None

    def throttled(self, path):
        return any(path.startswith(p) for p in self.doc["throttled"])

    def errors(self, schema, instance):
        ref = schema["$ref"].replace("#", CONTRACT_URI + "#", 1)
        validator = self.validators.get(ref)
        if validator is None:
            validator = Draft202012Validator({"$ref": ref}, registry=self.registry)
            self.validators[ref] = validator
        return sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))


def schema_violations(contract, schema, instance, part):
    out = []
    for e in contract.errors(schema, instance):
        rule = e.validator
        out.append(f"{part} {e.json_path}: {rule}: {e.message[:160]}")
    return out


def check_answer(contract, op, x):
    status = x["status"]
    answer = x.get("response") or {}
    ctype = media(answer.get("content_type"))
    if status == 429 and contract.throttled(x["path"]):
        return [] if ctype == "text/html" else [f"answer content-type: media: 429 is documented with text/html, got {ctype}"]
    spec = op["responses"].get(str(status))
    if spec is None:
        documented = ", ".join(sorted(op["responses"]))
        return [f"answer status: documented: {status} is not among {documented}"]
    if "$ref" in spec:
        if ctype != "application/json":
            return [f"answer content-type: media: application/json is documented, got {ctype}"]
        return schema_violations(contract, spec, answer.get("body"), "answer")
    want = spec.get("media")
    if want is None:
        return []
    if ctype != want:
        return [f"answer content-type: media: {want} is documented, got {ctype}"]
    return []


def check_request(contract, op, x):
    out = []
    request = x.get("request") or {}
    headers = {k.lower() for k in (request.get("headers") or {})}
    for name in op["request"]["headers"]:
        if name not in headers:
            out.append(f"request header {name}: required: missing")
    query = x.get("query") or {}
    spec = op.get("query", {})
    for name in spec.get("required", []):
        if name not in query:
            out.append(f"request query {name}: required: missing")
    allowed = set(spec.get("required", [])) | set(spec.get("optional", []))
    for name in query:
        if name not in allowed:
            out.append(f"request query {name}: documented: not a parameter of this operation")
    body = op["request"].get("body")
    sent = request.get("body")
    if body is None:
        if sent not in (None, "", {}):
            out.append("request body: documented: this operation takes no body")
        return out
    ctype = media((request.get("headers") or {}).get("content-type"))
    if ctype != body["media"]:
        out.append(f"request content-type: media: {body['media']} is documented, got {ctype}")
        return out
    out += schema_violations(contract, body["schema"], sent if sent is not None else {}, "request")
    return out


def check(contract, exchanges):
    violations = Counter()
    checked = Counter()
    skipped = Counter()
    for x in exchanges:
        user_agent = ((x.get("request") or {}).get("headers") or {}).get("user-agent", "")
        raw = x.get("suite", "").startswith(RAW_SUITES) or user_agent.startswith(RAW_USER_AGENTS)
        op = contract.operation(x["method"], x["path"])
        fault = x.get("fault")
        if op is None:
            if raw:
                skipped["outside the contract (the emulator's own tests)"] += 1
            else:
                violations[f"{x.get('suite')}: {x['method']} {x['path']}: no documented operation"] += 1
            continue
        # An injected status is the service's own kind of answer where the operation documents
        # that status (REST API V2's 500 with an enhanced error); elsewhere it mimics an outage.
        documented_status = fault == "status" and str(x["status"]) in op["responses"]
        if fault not in CHECKED_FAULTS and not documented_status:
            skipped[f"fault {fault}" + (f" {x['status']}" if fault == "status" else "")] += 1
            continue
        checked[op["id"]] += 1
        found = check_answer(contract, op, x)
        if not raw and not op.get("user_agent"):
            found += check_request(contract, op, x)
        for v in found:
            violations[f"{x.get('suite')}: {op['id']} ({x['method']} {x['path']}) {x['status']}: {v}"] += 1
    unexercised = [op["id"] for _, _, op in contract.ops if checked[op["id"]] == 0]
    return violations, checked, skipped, unexercised


def read(paths):
    out = []
    for p in paths:
        p = Path(p)
        files = sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
        for f in files:
            for n, line in enumerate(f.read_text().splitlines(), 1):
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        sys.exit(f"{f}:{n}: not JSON: {e}")
    return out


def self_test(contract):
    ok_decision = {"resource": "r", "serviceProvider": "REF30", "mvpd": "M", "source": "mvpd", "authorized": True,
                   "token": {"serializedToken": "<redacted>"}}
    sdk_headers = {"authorization": "<present>", "content-type": "application/json",
                   "ap-device-identifier": "<present>", "x-device-info": "<present>"}

    def x(status, body, headers=None, suite="tvpass/sdk", fault=None, request_body=None):
        return {"suite": suite, "method": "POST", "path": "/api/v2/REF30/decisions/authorize/M", "query": None,
                "request": {"headers": headers or sdk_headers, "body": request_body or {"resources": ["r"]}},
                "status": status, "response": {"content_type": "application/json;charset=UTF-8", "body": body},
                "fault": fault}

    cases = [
        ("a good Permit", x(200, {"decisions": [ok_decision]}), None),
        ("a top-level 403 for a missing profile", x(403, {"status": 403, "code": "authenticated_profile_missing"}), "answer $.code: const"),
        ("a 404", x(404, {"status": 404, "code": "not_found"}), "answer status: documented: 404"),
        ("a decision without its source", x(200, {"decisions": [{k: v for k, v in ok_decision.items() if k != "source"}]}),
         "answer $.decisions[0]: required"),
        ("a Deny without its error", x(200, {"decisions": [dict(ok_decision, authorized=False, token=None)]}),
         "answer $.decisions[0]"),
        ("a request without X-Device-Info", x(200, {"decisions": [ok_decision]},
                                              {k: v for k, v in sdk_headers.items() if k != "x-device-info"}),
         "request header x-device-info: required"),
        ("an empty resources list", x(200, {"decisions": []}, request_body={"resources": []}), "request $.resources: minItems"),
        ("the same request from the emulator's tests", x(200, {"decisions": [ok_decision]}, {}, suite="tvpass-emulator/journeys"), None),
        ("a truncated answer injected on purpose", x(200, "{\"decis", fault="truncate"), None),
        ("an injected 503, which no operation documents", x(503, "<html></html>", fault="status"), None),
        ("an injected 500 without the enhanced error", x(500, {"oops": True}, fault="status"), "answer $: required"),
        ("the doctor's probe without credentials", x(200, {"decisions": [ok_decision]}, {"user-agent": "tvpass-doctor/0.1.0"}), None),
    ]
    failed = 0
    for name, exchange, want in cases:
        violations, _, _, _ = check(contract, [exchange])
        text = "\n".join(violations)
        if want is None and violations:
            print(f"self-test: {name}: unexpected violation:\n{text}", file=sys.stderr)
            failed += 1
        elif want is not None and want not in text:
            print(f"self-test: {name}: expected a violation with {want!r}, got:\n{text or '(none)'}", file=sys.stderr)
            failed += 1
    if failed:
        sys.exit(1)
    print(f"contract self-test: {len(cases)} cases, each violation caught with its operation, field and rule")


def main(argv):
    contract = Contract()
    if argv == ["--self-test"]:
        self_test(contract)
        return
    if not argv:
        sys.exit(__doc__)
    exchanges = read(argv)
    if not exchanges:
        sys.exit("contract: no exchanges recorded (was TVPASS_EMULATOR_EXCHANGES set?)")
    violations, checked, skipped, unexercised = check(contract, exchanges)
    print(f"contract: {len(exchanges)} exchanges, {sum(checked.values())} checked across {len(checked)} operations")
    for op_id, n in sorted(checked.items()):
        print(f"  {n:6d}  {op_id}")
    for why, n in sorted(skipped.items()):
        print(f"  {n:6d}  left out: {why}")
    status = 0
    if violations:
        print(f"contract: {sum(violations.values())} violations ({len(violations)} distinct):", file=sys.stderr)
        for v, n in sorted(violations.items())[:40]:
            print(f"  {v}" + (f"  (x{n})" if n > 1 else ""), file=sys.stderr)
        status = 1
    if unexercised:
        print("contract: operations no suite exercised: " + ", ".join(unexercised), file=sys.stderr)
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    main(sys.argv[1:])
