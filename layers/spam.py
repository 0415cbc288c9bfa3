"""Spam defences that need no account and no third party: a honeypot field and a hold for links.

* Honeypot: the resident form carries a field named ``website`` that people never see (hidden
  with CSS, ``tabindex=-1``, ``autocomplete=off``) and bots fill in. A submission with anything in
  it is answered exactly like a success, so the bot learns nothing, and nothing is stored.
  The JSON API honours the same field: a client that sends a non-empty ``website`` gets the same
  pretend success.
* Link hold: with ``HOLD_LINKS`` on, a proposal whose text contains a link is stored hidden with
  the reason ``pending_review``; a moderator publishes it from the moderation queue, and the
  resident is told that it awaits review. The text is normalised first (NFKC, so full-width
  ``ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ`` is ``www.example.com``; invisible format characters such as
  zero-width spaces removed). A link is ``scheme://``, ``www.``, markup links, or a name whose
  ending is a real public suffix (the Public Suffix List shipped with ``publicsuffixlist``; no
  download at run time) and which has a path or port (``bit.ly/x``), a subdomain
  (``dalby.example.se``), a multi-part suffix (``example.co.uk``), is a known shortener, or is
  plain ``name.tld`` (``example.com``). Not a link: endings that are no public suffix
  (``kl.15``, ``t.ex.``, ``bänkar.Tack``), a Title-case ending glued to the word before, which is
  a new sentence after a missing space (``parken.Vi``, ``skolan.Se``), unless it is a generic
  spam ending (``.Com``, ``.Net``, ...), and Swedish abbreviations ending in ``nr``/``kr``
  (``org.nr``, ``tel.nr``, ``f.Kr``).

Rate limits per client are the web layer's business (``RATELIMIT_ENABLED``). No Flask here.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata

from publicsuffixlist import PublicSuffixList

HONEYPOT_FIELD = "website"
PENDING_REVIEW = "pending_review"

_SCHEME_OR_MARKUP = re.compile(
    r"(?:[a-z][a-z0-9+.-]{1,20}://)"  # scheme://
    r"|(?:\bwww\d?\.)"  # www.
    r"|(?:<\s*a\s)|(?:\[url)|(?:\]\(\s*[a-z]+:)",  # HTML, BBCode and Markdown links
    re.IGNORECASE,
)
# Dot-separated names (labels of letters, digits and hyphens), then perhaps a path or a port.
_NAME = re.compile(r"(?<![\w-])([^\W_][\w-]*(?:\.[^\W_][\w-]*)+)(/|:\d)?")
# Written Title-case after a word these still count: the generic endings spam uses.
_GENERIC_ENDINGS = frozenset(
    (
        "com",
        "net",
        "org",
        "info",
        "biz",
        "xyz",
        "top",
        "site",
        "online",
        "shop",
        "club",
        "link",
        "click",
        "io",
        "app",
        "dev",
        "ru",
        "cn",
    )
)
# Swedish abbreviations end in these (org.nr, tel.nr, f.Kr); a link under them is rare here.
_ABBREVIATION_ENDINGS = frozenset(("nr", "kr"))
SHORTENERS = frozenset(
    (
        "bit.ly",
        "t.co",
        "tinyurl.com",
        "goo.gl",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "rb.gy",
        "cutt.ly",
        "shorturl.at",
        "tiny.cc",
        "t.ly",
        "s.id",
        "rebrand.ly",
        "v.gd",
        "lnkd.in",
    )
)
# Full stops that browsers accept between the labels of a domain name (NFKC leaves U+3002 as it is).
_DOTS = {ord("\u3002"): "."}
_SOFT_HYPHEN, _FIRST_CF_PAST_LATIN = "\u00ad", "\u0600"  # U+00AD is the one format (Cf) character below U+0600
# Each alternative of _SCHEME_OR_MARKUP needs one of these: a text without them is not searched at all.
_SCHEME_OR_MARKUP_NEEDS = ("://", "www", "<", "[url", "](")


@functools.cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package: no network


def normalise(text: str) -> str:
    """Return ``text`` as a reader sees it: NFKC, invisible format characters (zero-width space,
    joiners, soft hyphen, bidi controls, BOM) removed, ideographic full stops as dots."""
    text = unicodedata.normalize("NFKC", text)
    if not text or (max(text) < _FIRST_CF_PAST_LATIN and _SOFT_HYPHEN not in text):
        return text  # most text: below U+0600 the soft hyphen is the only format character (nothing to remove or translate)
    return "".join(c for c in text if unicodedata.category(c) != "Cf").translate(_DOTS)


def _is_link_name(name: str, tail: str | None) -> bool:
    lower = name.lower()
    suffix = _suffixes().publicsuffix(lower, accept_unknown=False)
    registrable = _suffixes().privatesuffix(lower, accept_unknown=False)
    if suffix is None or registrable is None:  # no real ending, or only an ending (``co.uk``)
        return False
    if tail or registrable in SHORTENERS or registrable != lower or "." in suffix:
        return True  # path or port, shortener, subdomain, multi-part ending
    if suffix in _ABBREVIATION_ENDINGS:
        return False
    written = name[-len(suffix) :]
    return not (written[0].isupper() and written[1:].islower() and suffix not in _GENERIC_ENDINGS)


def contains_link(*texts: str | None) -> bool:
    """Return whether any of ``texts`` contains something a browser or a reader would follow as a link."""
    for text in texts:
        if not text:
            continue
        text = normalise(text)
        lower = text.lower()
        if any(needed in lower for needed in _SCHEME_OR_MARKUP_NEEDS) and _SCHEME_OR_MARKUP.search(text):
            return True
        if any(_is_link_name(m.group(1), m.group(2)) for m in _NAME.finditer(text)):
            return True
    return False


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
