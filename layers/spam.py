"""Spam defences that need no account and no third party: a honeypot field and a hold for links.

* Honeypot: the resident form carries a field named ``website`` that people never see (hidden
  with CSS, ``tabindex=-1``, ``autocomplete=off``) and bots fill in. A submission with anything in
  it is answered exactly like a success, so the bot learns nothing, and nothing is stored.
  The JSON API honours the same field: a client that sends a non-empty ``website`` gets the same
  pretend success.
* Link hold: with ``HOLD_LINKS`` on, a proposal whose text contains a link (``http://``, ``www.``,
  a bare domain such as ``example.com``, markup links) is stored hidden with the reason
  ``pending_review``; a moderator publishes it from the moderation queue, and the resident is told
  that it awaits review.

Rate limits per client are the web layer's business (``RATELIMIT_ENABLED``). No Flask here.
"""
from __future__ import annotations

import ipaddress
import re

HONEYPOT_FIELD = "website"
PENDING_REVIEW = "pending_review"

# Top-level domains common in spam, plus the Nordic ones; a bare "word.tld" with one of these is a link.
_TLDS = ("com|net|org|info|biz|io|co|me|ru|cn|xyz|top|site|online|shop|club|link|click|app|dev|"
         "se|nu|dk|no|fi|eu|de|uk|us")
_LINK = re.compile(
    r"(?:[a-z][a-z0-9+.-]{1,20}://)"                      # scheme://
    r"|(?:\bwww\d?\.)"                                    # www.
    r"|(?:\b[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.(?:" + _TLDS + r")\b(?![.-]?[a-z0-9]))"  # bare domain
    r"|(?:<\s*a\s)|(?:\[url)|(?:\]\(\s*[a-z]+:)",           # HTML, BBCode and Markdown links
    re.IGNORECASE,
)


def contains_link(*texts: str | None) -> bool:
    """Return whether any of ``texts`` contains something a browser or a reader would follow as a link."""
    return any(text and _LINK.search(text) for text in texts)


def is_honeypot_filled(data) -> bool:
    """Return whether a submission filled in the honeypot field (``data`` is a dict or a form)."""
    value = data.get(HONEYPOT_FIELD) if hasattr(data, "get") else None
    if value is None or value is False:
        return False
    return bool(str(value).strip())


def network_of(address: str | None) -> str:
    """Return the network an address belongs to when counting residents: its IPv4 /24 or IPv6 /64.

    One household, office or mobile subscriber usually holds a whole IPv6 /64 and often several
    addresses of one IPv4 /24, so counting addresses would let one person count as many. An
    IPv4-mapped IPv6 address counts as its IPv4 address; something that is not an address is
    returned as it is.
    """
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return address or "-"
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        return str(ipaddress.IPv4Network((int(ip), 24), strict=False))
    return str(ipaddress.IPv6Network((int(ip), 64), strict=False))
