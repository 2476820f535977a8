"""Expands the registry's JSON-LD with pyld (a JSON-LD processor) against a local copy of the
schema.org context, and checks the types and the properties each kind of document needs.

    check.py BASE_URL

No network: the schema.org context is served from scripts/jsonld/schemaorg-context.jsonld
(the terms the registry uses, with schema.org's @vocab and the coercions of its published
context), and any other remote document is refused.
"""
import json
import os
import sys
import urllib.request

from pyld import jsonld

SCHEMA = "http://schema.org/"
HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "schemaorg-context.jsonld")) as f:
    CONTEXT = json.load(f)


def loader(url, options=None):
    if url.rstrip("/") in ("https://schema.org", "http://schema.org"):
        return {"contentType": "application/ld+json", "contextUrl": None,
                "documentUrl": url, "document": CONTEXT}
    raise jsonld.JsonLdError("remote documents are not fetched here: " + url,
                             "jsonld.LoadDocumentError", code="loading document failed")


jsonld.set_document_loader(loader)
BASE = sys.argv[1]
failures = []


def fetch(path):
    request = urllib.request.Request(BASE + path, headers={"Accept": "application/ld+json"})
    with urllib.request.urlopen(request) as response:
        kind = response.headers.get("Content-Type", "")
        if not kind.startswith("application/ld+json"):
            failures.append(f"{path}: Content-Type {kind}")
        return json.load(response)


def expand(path):
    doc = fetch(path)
    expanded = jsonld.expand(doc)
    if len(expanded) != 1:
        failures.append(f"{path}: expands to {len(expanded)} nodes")
        return {}
    return expanded[0]


def types(node):
    return [t.removeprefix(SCHEMA) for t in node.get("@type", [])]


def values(node, prop):
    return node.get(SCHEMA + prop, [])


def need(path, node, props, what):
    for prop in props:
        if not values(node, prop):
            failures.append(f"{path}: {what} has no {prop}")


EVENT_NEEDS = ["name", "startDate", "endDate", "location", "eventStatus", "eventAttendanceMode"]


def check_event(path, node, what="the event", needs=EVENT_NEEDS):
    if not set(types(node)) & {"Event", "EducationEvent"}:
        failures.append(f"{path}: {what} is a {types(node)}")
    # What search engines require of an Event, and what the registry always knows of one
    # with dates.
    need(path, node, needs, what)
    for status in values(node, "eventStatus"):
        if not status.get("@id", "").endswith(("EventScheduled", "EventCancelled",
                                                "EventPostponed", "EventRescheduled",
                                                "EventMovedOnline")):
            failures.append(f"{path}: eventStatus {status}")
    for start in values(node, "startDate"):
        text = start.get("@value", "")
        if not (len(text) >= 25 and text[19] in "+-"):
            failures.append(f"{path}: startDate {text!r} has no offset")
    for place in values(node, "location"):
        if "Place" not in types(place):
            failures.append(f"{path}: location is a {types(place)}")
        for address in values(place, "address"):
            if "PostalAddress" not in types(address):
                failures.append(f"{path}: address is a {types(address)}")


path = "/api/v1/events/iisg-board-4"
board = expand(path)
check_event(path, board)
need(path, board, ["organizer", "performer"], "the Board meeting")
for organizer in values(board, "organizer"):
    if "Organization" not in types(organizer):
        failures.append(f"{path}: organizer is a {types(organizer)}")

path = "/api/v1/events?limit=50"
listed = expand(path)
if "ItemList" not in types(listed):
    failures.append(f"{path}: a list is a {types(listed)}")
items = values(listed, "itemListElement")
if not items:
    failures.append(f"{path}: no items")
for item in items:
    if "ListItem" not in types(item):
        failures.append(f"{path}: an item is a {types(item)}")
    for event in values(item, "item"):
        if values(event, "startDate"):
            check_event(path, event, "a listed event")

path = "/api/v1/networks/wbcti"
network = expand(path)
if "Organization" not in types(network):
    failures.append(f"{path}: the network is a {types(network)}")
need(path, network, ["name", "member"], "the network")
for role in values(network, "member"):
    if "OrganizationRole" not in types(role):
        failures.append(f"{path}: a member is a {types(role)}")
    need(path, role, ["member", "roleName"], "a member role")

path = "/api/v1/organisations/dcaf-ljubljana"
organisation = expand(path)
if "Organization" not in types(organisation):
    failures.append(f"{path}: the organisation is a {types(organisation)}")
need(path, organisation, ["name", "memberOf", "address"], "the organisation")

path = "/api/v1/people/maciej-popowski"
person = expand(path)
if "Person" not in types(person):
    failures.append(f"{path}: the person is a {types(person)}")
need(path, person, ["name", "worksFor", "memberOf"], "the person")

path = "/api/v1/chains/tirana-april-2019"
chain = expand(path)
if "EventSeries" not in types(chain):
    failures.append(f"{path}: the chain is a {types(chain)}")
subs = values(chain, "subEvent")
if len(subs) != 3:
    failures.append(f"{path}: {len(subs)} sub-events")
for event in subs:
    # A chain lists its events briefly: no attendance mode.
    check_event(path, event, "a chain's event", EVENT_NEEDS[:-1])

if failures:
    print("jsonld-check: FAILED", *failures, sep="\n  ")
    sys.exit(1)
print("jsonld-check: every document expands with the schema.org types and properties it needs")
