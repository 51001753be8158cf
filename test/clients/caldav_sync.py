# A real CalDAV client (python3-caldav, as Debian ships it) syncing a calendar the way a phone or
# desktop calendar does: discover the principal, make a calendar, store an event, read it back.
# Usage: caldav_sync.py URL LOGIN PASSWORD. Prints one JSON line: {"ok": true, "events": [...]} or
# {"ok": false, "error": "<exception class>", "status": <HTTP status if any>}.
import json
import sys
import uuid

import caldav
from caldav.lib import error

url, login, password = sys.argv[1:4]
uid = str(uuid.uuid4())
event = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Sesame tests//caldav_sync//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20261201T090000Z
DTSTART:20261203T090000Z
DTEND:20261203T100000Z
SUMMARY:Standup {uid[:8]}
END:VEVENT
END:VCALENDAR
"""
try:
    client = caldav.DAVClient(url=url, username=login, password=password)
    principal = client.principal()
    calendar = principal.make_calendar(name=f"Work {uid[:8]}")
    calendar.save_event(event)
    summaries = [str(e.vobject_instance.vevent.summary.value) for e in calendar.events()]
    print(json.dumps({"ok": True, "events": summaries, "uid": uid[:8]}))
except error.DAVError as e:
    print(json.dumps({"ok": False, "error": type(e).__name__, "reason": str(e)[:300]}))
