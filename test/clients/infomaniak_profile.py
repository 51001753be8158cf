#!/usr/bin/env python3
"""Reads the signed-in user the way "Log in with Infomaniak" code does: GET /1/profile with the access
token of an ordinary authorization-code login, the Infomaniak envelope, an integer id.

Standard library only. Usage: infomaniak_profile.py <api base, e.g. https://sesame.example> <token>
Prints "<id> <email>"; exits 1 with the API's error code on an error answer."""
import json
import sys
import urllib.error
import urllib.request


def profile(base, token):
    req = urllib.request.Request(
        base.rstrip("/") + "/1/profile",
        headers={"Authorization": "Bearer " + token, "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            body = json.load(res)
    except urllib.error.HTTPError as err:
        body = json.load(err)
    if body.get("result") != "success":
        raise SystemExit("error %s: %s" % (body["error"]["code"], body["error"].get("description")))
    return body["data"]


def main():
    base, token = sys.argv[1], sys.argv[2]
    data = profile(base, token)
    # Infomaniak's user id is a number; clients store and compare it as one.
    assert isinstance(data["id"], int) and not isinstance(data["id"], bool), "id is not an integer: %r" % data["id"]
    assert isinstance(data["email"], str)
    print(data["id"], data["email"])


if __name__ == "__main__":
    main()
