"""Security: NKey users, per-user permissions, accounts with exports and imports.

Tagged "security" (and "auth" where a case needs only login): natrix implements these
after the rest, so `run.py --skip-tag security` reports them as skipped until then.
Source of the expected behaviour: nats-server 2.9.10, server/auth.go, client.go,
accounts.go, opts.go. Keys are nats-server's own test keys (see nkeys.py).
"""
from nkeys import KNOWN, KeyPair
from wire import SERVICE_REPLY
from steps import (Case, capture, check_info, connect, exactly_once, expect, expect_close,
                   expect_unordered, hmsg, hpub, msg, pub, ready, send, sign_nonce, sleep)

SEC = ("security",)
AUTH = ("security", "auth")

K1 = KeyPair(*KNOWN[0])   # configured, no permissions
K2 = KeyPair(*KNOWN[1])   # configured, with permissions
K3 = KeyPair(*KNOWN[2])   # never configured
VIOLATION = "-ERR 'Authorization Violation'"


def login(name, user, password, **opts):
    """ready() as a user/password user."""
    return ready(name, user=user, **{"pass": password}, **opts)


def nkey_login(name, kp, **opts):
    """ready() as an NKey user that signs its own nonce."""
    return ready(name, nkey=kp.public_key, sig=sign_nonce(kp), **opts)


def refused(name, opts):
    """Connects with these CONNECT options; the server refuses and closes."""
    return [connect(name, dict({"verbose": False, "pedantic": False}, **opts)),
            expect(name, VIOLATION), expect_close(name)]


def pub_denied(subject):
    return f"-ERR 'Permissions Violation for Publish to \"{subject}\"'"


def sub_denied(subject, queue=None):
    q = f' using queue "{queue}"' if queue else ""
    return f"-ERR 'Permissions Violation for Subscription to \"{subject}\"{q}'"


# -- NKey users -------------------------------------------------------------------------------

NKEYS = f"""
authorization {{
  users: [
    {{nkey: "{K1.public_key}"}}
    {{nkey: "{K2.public_key}", permissions: {{publish: "nk.perm.ok", subscribe: "nk.perm.>"}}}}
    {{user: nkalice, password: pw}}
  ]
}}
"""

NKEY_CASES = [
    # The nonce is there whenever nkey users are configured; clients sign it.
    Case("security/nkey_info_has_nonce", [
        connect("a"),
        check_info("a", types={"nonce": "str"}, values={"auth_required": True},
                   raw=r'INFO \{.*"nonce":"[A-Za-z0-9_-]+".*\} '),
    ], config=NKEYS, tags=AUTH),
    Case("security/nkey_signature_base64url", [
        nkey_login("a", K1),
        send("a", "SUB nk.a 1\r\n" + pub("nk.a", "hi") + "PING\r\n"),
        expect("a", msg("nk.a", 1, "hi"), "PONG"),
    ], config=NKEYS, tags=AUTH),
    Case("security/nkey_signature_padded_std_base64", [
        ready("a", nkey=K1.public_key, sig=sign_nonce(K1, encoding="std")),
        send("a", "SUB nk.b 1\r\n" + pub("nk.b", "hi") + "PING\r\n"),
        expect("a", msg("nk.b", 1, "hi"), "PONG"),
    ], config=NKEYS, tags=AUTH),
    Case("security/nkey_verbose_connect_gets_ok", [
        connect("a", {"verbose": True, "nkey": K1.public_key, "sig": sign_nonce(K1)}),
        expect("a", "+OK"),
        send("a", "PING\r\n"), expect("a", "PONG"),
    ], config=NKEYS, tags=AUTH),
    Case("security/nkey_signed_by_another_key", [
        refused("a", {"nkey": K1.public_key, "sig": sign_nonce(K3)}),
    ], config=NKEYS, tags=AUTH),
    # The nonce differs per connection: an earlier connection's valid signature is useless.
    Case("security/nkey_replayed_signature", [
        nkey_login("old", K1),
        refused("a", {"nkey": K1.public_key, "sig": sign_nonce(K1, of="old")}),
    ], config=NKEYS, tags=AUTH),
    Case("security/nkey_missing_signature", [
        refused("a", {"nkey": K1.public_key}),
    ], config=NKEYS, tags=AUTH),
    Case("security/nkey_signature_not_base64", [
        refused("a", {"nkey": K1.public_key, "sig": "not base64!"}),
    ], config=NKEYS, tags=AUTH),
    Case("security/nkey_signature_too_short", [
        refused("a", {"nkey": K1.public_key, "sig": "AAAA"}),
    ], config=NKEYS, tags=AUTH),
    Case("security/nkey_unknown_key", [
        refused("a", {"nkey": K3.public_key, "sig": sign_nonce(K3)}),
    ], config=NKEYS, tags=AUTH),
    Case("security/nkey_malformed_key", [
        refused("a", {"nkey": "UNOTAKEY", "sig": sign_nonce(K1)}),
    ], config=NKEYS, tags=AUTH),
    # A seed is no public key, even for the right user.
    Case("security/nkey_seed_instead_of_public_key", [
        refused("a", {"nkey": K1.seed, "sig": sign_nonce(K1)}),
    ], config=NKEYS, tags=AUTH),
    # Mixed list: user/password entries work next to nkey entries, and need no signature.
    Case("security/nkey_mixed_list_password_user", [
        login("a", "nkalice", "pw"),
        send("a", "SUB nk.c 1\r\n" + pub("nk.c", "hi") + "PING\r\n"),
        expect("a", msg("nk.c", 1, "hi"), "PONG"),
    ], config=NKEYS, tags=AUTH),
    Case("security/nkey_mixed_list_wrong_password", [
        refused("a", {"user": "nkalice", "pass": "nope"}),
    ], config=NKEYS, tags=AUTH),
    Case("security/nkey_mixed_list_no_credentials", [
        refused("a", {}),
    ], config=NKEYS, tags=AUTH),
    # With "nkey" present, the nkey decides (auth.go: nkeys are checked before users):
    # a wrong password alongside is ignored ...
    Case("security/nkey_wins_over_user_fields", [
        ready("a", nkey=K1.public_key, sig=sign_nonce(K1), user="nkalice", **{"pass": "bad"}),
    ], config=NKEYS, tags=AUTH),
    # ... and a right password does not rescue a bad signature.
    Case("security/nkey_bad_signature_not_rescued_by_password", [
        refused("a", {"nkey": K1.public_key, "sig": sign_nonce(K3), "user": "nkalice",
                      "pass": "pw"}),
    ], config=NKEYS, tags=AUTH),
    # Permissions on an nkey entry apply to that key.
    Case("security/nkey_user_permissions", [
        nkey_login("a", K2),
        send("a", "SUB nk.perm.> 1\r\nSUB nk.other 2\r\nPING\r\n"),
        expect("a", sub_denied("nk.other"), "PONG"),
        send("a", pub("nk.perm.no", "x") + pub("nk.perm.ok", "y") + "PING\r\n"),
        expect("a", pub_denied("nk.perm.no"), msg("nk.perm.ok", 1, "y"), "PONG"),
    ], config=NKEYS, tags=SEC),
]




# -- Permissions ------------------------------------------------------------------------------

PERMS = """
authorization {
  users: [
    {user: watcher, password: w, permissions: {publish: ">", subscribe: ">"}}
    {user: pubber, password: p, permissions: {
      publish: {allow: ["pm.pub.>", "pm.star.*"], deny: ["pm.pub.secret.>", "pm.star.no"]}}}
    {user: short, password: h, permissions: {pub: "pm.short.a", sub: {allow: "pm.short.>"}}}
    {user: bare, password: b, permissions: {publish: ["pm.bare.a", "pm.bare.*.x"], subscribe: "pm.bare.>"}}
    {user: denier, password: d, permissions: {publish: {deny: "pm.deny.>"}, subscribe: {deny: ["pm.deny.>", "pm.hidden.*.x"]}}}
    {user: subber, password: s, permissions: {
      subscribe: {allow: ["pm.sub.>"], deny: ["pm.sub.secret", "pm.sub.*.hidden"]}}}
    {user: queuer, password: q, permissions: {
      subscribe: {allow: ["pm.q.plain", "pm.q.work workers", "pm.q.ver v1.*", "pm.q.any.>"],
                  deny: ["pm.q.any.x badq"]}}}
    {user: responder, password: r, permissions: {subscribe: "pm.svc.>", allow_responses: true}}
    {user: responder2, password: r, permissions: {
      publish: "pm.rm.open", subscribe: "pm.rm.>", allow_responses: {max: 2}}}
    {user: responder3, password: r, permissions: {
      publish: {deny: "pm.rd.no"}, subscribe: "pm.rd.>", allow_responses: true}}
    {user: responder4, password: r, permissions: {
      subscribe: "pm.rx.>", allow_responses: {max: 10, expires: "1s"}}}
  ]
}
"""

PERM_CASES = [
    Case("security/perm_publish_allow_and_deny", [
        login("w", "watcher", "w"), login("p", "pubber", "p"),
        send("w", "SUB pm.pub.> 1\r\nSUB pm.star.* 2\r\nPING\r\n"), expect("w", "PONG"),
        send("p", pub("pm.pub.a", "1") + pub("pm.pub.b.c", "2") + pub("pm.star.yes", "3")
             + "PING\r\n"),
        expect("p", "PONG"),
        expect("w", msg("pm.pub.a", 1, "1"), msg("pm.pub.b.c", 1, "2"), msg("pm.star.yes", 2, "3")),
    ], config=PERMS, tags=SEC),
    # Deny wins over allow; the message is dropped; the connection stays usable.
    Case("security/perm_publish_deny_wins_and_message_dropped", [
        login("w", "watcher", "w"), login("p", "pubber", "p"),
        send("w", "SUB pm.pub.> 1\r\nSUB pm.star.* 2\r\nPING\r\n"), expect("w", "PONG"),
        send("p", pub("pm.pub.secret.x", "no") + pub("pm.star.no", "no") + pub("pm.pub.after", "ok")
             + "PING\r\n"),
        expect("p", pub_denied("pm.pub.secret.x"), pub_denied("pm.star.no"), "PONG"),
        expect("w", msg("pm.pub.after", 1, "ok")),
    ], config=PERMS, tags=SEC),
    # Outside the allow list; "*" is one token only.
    Case("security/perm_publish_outside_allow_list", [
        login("p", "pubber", "p"),
        send("p", pub("pm.other", "x") + pub("pm.star.a.b", "x") + pub("pm.pub", "x") + "PING\r\n"),
        expect("p", pub_denied("pm.other"), pub_denied("pm.star.a.b"), pub_denied("pm.pub"), "PONG"),
    ], config=PERMS, tags=SEC),
    # Publish permissions check the subject only, never the reply subject.
    Case("security/perm_publish_reply_subject_not_checked", [
        login("w", "watcher", "w"), login("p", "pubber", "p"),
        send("w", "SUB pm.pub.r 1\r\nPING\r\n"), expect("w", "PONG"),
        send("p", pub("pm.pub.r", "x", reply="pm.forbidden.reply") + "PING\r\n"),
        expect("p", "PONG"),
        expect("w", msg("pm.pub.r", 1, "x", reply="pm.forbidden.reply")),
    ], config=PERMS, tags=SEC),
    # The subject in the error is quoted as Go's %q does it (strconv.Quote): quotes and
    # backslashes escaped, control bytes and invalid UTF-8 as \xNN, printable UTF-8
    # kept, non-printable code points as \uNNNN.
    Case("security/perm_error_quotes_subject_like_go", [
        login("p", "pubber", "p"),
        send("p", pub('pm.q"x', "1") + pub("pm.q\\x", "2") + pub("pm.q\x01", "3")
             + pub("pm.q\xc3\xa9", "4") + pub("pm.q\xff", "5") + pub("pm.q\x7f", "6")
             + pub("pm.q\xe2\x80\xa8", "7") + "PING\r\n"),
        expect("p", pub_denied('pm.q\\"x'), pub_denied("pm.q\\\\x"), pub_denied("pm.q\\x01"),
               pub_denied("pm.q\xc3\xa9"), pub_denied("pm.q\\xff"), pub_denied("pm.q\\x7f"),
               pub_denied("pm.q\\u2028"), "PONG"),
    ], config=PERMS, tags=SEC),
    # A verbose client gets -ERR instead of +OK for a denied publish or subscription.
    Case("security/perm_denied_verbose", [
        login("p", "subber", "s", verbose=True),
        send("p", pub("pm.other", "x") + "SUB pm.other 1\r\nSUB pm.sub.v 2\r\nPING\r\n"),
        expect("p", "+OK", sub_denied("pm.other"), "+OK", "PONG"),
        login("q", "pubber", "p", verbose=True),
        send("q", pub("pm.other", "x") + pub("pm.pub.v", "x") + "PING\r\n"),
        expect("q", pub_denied("pm.other"), "+OK", "PONG"),
    ], config=PERMS, tags=SEC),
    # HPUB is checked like PUB.
    Case("security/perm_hpub_denied", [
        login("p", "pubber", "p", headers=True),
        send("p", hpub("pm.other", "NATS/1.0\r\nA: b\r\n\r\n", "x") + "PING\r\n"),
        expect("p", pub_denied("pm.other"), "PONG"),
    ], config=PERMS, tags=SEC),
    # "pub" and "sub" are short names for "publish" and "subscribe".
    Case("security/perm_short_key_names", [
        login("h", "short", "h"),
        send("h", "SUB pm.short.> 1\r\nSUB pm.other 2\r\nPING\r\n"),
        expect("h", sub_denied("pm.other"), "PONG"),
        send("h", pub("pm.short.a", "1") + pub("pm.short.b", "2") + "PING\r\n"),
        expect("h", msg("pm.short.a", 1, "1"), pub_denied("pm.short.b"), "PONG"),
    ], config=PERMS, tags=SEC),
    # A bare list is an allow list; a single string is a one-subject allow list.
    Case("security/perm_bare_list_is_allow_list", [
        login("b", "bare", "b"),
        send("b", "SUB pm.bare.> 1\r\nSUB pm.other 2\r\nPING\r\n"),
        expect("b", sub_denied("pm.other"), "PONG"),
        send("b", pub("pm.bare.a", "1") + pub("pm.bare.b", "2") + pub("pm.bare.y.x", "3")
             + "PING\r\n"),
        expect("b", msg("pm.bare.a", 1, "1"), pub_denied("pm.bare.b"), msg("pm.bare.y.x", 1, "3"),
               "PONG"),
    ], config=PERMS, tags=SEC),
    # A deny list alone allows everything else.
    Case("security/perm_deny_only", [
        login("d", "denier", "d"),
        send("d", "SUB pm.free 1\r\nSUB pm.deny.a 2\r\nSUB pm.hidden.y.x 3\r\nSUB pm.hidden.y 4\r\n"
             "PING\r\n"),
        expect("d", sub_denied("pm.deny.a"), sub_denied("pm.hidden.y.x"), "PONG"),
        send("d", pub("pm.free", "1") + pub("pm.deny.b", "2") + pub("pm.hidden.y", "3")
             + "PING\r\n"),
        expect("d", msg("pm.free", 1, "1"), pub_denied("pm.deny.b"), msg("pm.hidden.y", 4, "3"),
               "PONG"),
    ], config=PERMS, tags=SEC),
    Case("security/perm_subscribe_allow_and_deny", [
        login("w", "watcher", "w"), login("s", "subber", "s"),
        send("s", "SUB pm.sub.a 1\r\nSUB pm.sub.secret 2\r\nSUB pm.x 3\r\nSUB pm.sub.b.hidden 4\r\n"
             "SUB pm.sub.b.shown 5\r\nPING\r\n"),
        expect("s", sub_denied("pm.sub.secret"), sub_denied("pm.x"), sub_denied("pm.sub.b.hidden"),
               "PONG"),
        send("w", pub("pm.sub.secret", "no") + pub("pm.sub.a", "1") + pub("pm.sub.b.shown", "2")),
        expect("s", msg("pm.sub.a", 1, "1"), msg("pm.sub.b.shown", 5, "2")),
    ], config=PERMS, tags=SEC),
    # A denied SUB leaves no subscription behind: the sid can be used again.
    Case("security/perm_subscribe_denied_sid_free", [
        login("w", "watcher", "w"), login("s", "subber", "s"),
        send("s", "SUB pm.sub.secret 7\r\nSUB pm.sub.c 7\r\nPING\r\n"),
        expect("s", sub_denied("pm.sub.secret"), "PONG"),
        send("w", pub("pm.sub.c", "1")),
        expect("s", msg("pm.sub.c", 7, "1")),
    ], config=PERMS, tags=SEC),
    # A wildcard subscription may overlap denied subjects: it is allowed, and messages on the
    # denied subjects are filtered out on delivery (client.go deliverMsg, checkDenySub).
    Case("security/perm_wildcard_sub_skips_denied_subjects", [
        login("w", "watcher", "w"), login("s", "subber", "s"),
        send("s", "SUB pm.sub.> 1\r\nSUB pm.sub.*.hidden 2\r\nPING\r\n"),
        expect("s", sub_denied("pm.sub.*.hidden"), "PONG"),
        send("w", pub("pm.sub.secret", "no") + pub("pm.sub.a.hidden", "no") + pub("pm.sub.a", "1")
             + pub("pm.sub.a.shown", "2")),
        expect("s", msg("pm.sub.a", 1, "1"), msg("pm.sub.a.shown", 1, "2")),
    ], config=PERMS, tags=SEC),
    # Wildcard subscriptions wider than the allow list are refused.
    Case("security/perm_subscribe_wider_than_allow", [
        login("s", "subber", "s"),
        send("s", "SUB > 1\r\nSUB pm.> 2\r\nSUB pm.*.a 3\r\nPING\r\n"),
        expect("s", sub_denied(">"), sub_denied("pm.>"), sub_denied("pm.*.a"), "PONG"),
    ], config=PERMS, tags=SEC),
    Case("security/perm_queue_only_entry", [
        login("w", "watcher", "w"), login("q", "queuer", "q"),
        send("q", "SUB pm.q.work workers 1\r\nSUB pm.q.work other 2\r\nSUB pm.q.work 3\r\nPING\r\n"),
        expect("q", sub_denied("pm.q.work", "other"), sub_denied("pm.q.work"), "PONG"),
        send("w", pub("pm.q.work", "job")),
        expect("q", msg("pm.q.work", 1, "job")),
    ], config=PERMS, tags=SEC),
    # A plain entry allows queue subscriptions with any group; queue names may be wildcards.
    Case("security/perm_queue_plain_entry_and_wildcard_queue", [
        login("q", "queuer", "q"),
        send("q", "SUB pm.q.plain anyq 1\r\nSUB pm.q.ver v1.a 2\r\nSUB pm.q.ver v1.b 5\r\nSUB pm.q.ver v2 3\r\n"
             "SUB pm.q.ver 4\r\nPING\r\n"),
        expect("q", sub_denied("pm.q.ver", "v2"), sub_denied("pm.q.ver"), "PONG"),
    ], config=PERMS, tags=SEC),
    # A queue entry in the deny list denies only that group, not plain subscriptions, and
    # does not filter what a wildcard subscription receives.
    Case("security/perm_queue_deny_entry", [
        login("w", "watcher", "w"), login("q", "queuer", "q"),
        send("q", "SUB pm.q.any.x badq 1\r\nSUB pm.q.any.x goodq 2\r\nSUB pm.q.any.x 3\r\n"
             "SUB pm.q.any.> 4\r\nPING\r\n"),
        expect("q", sub_denied("pm.q.any.x", "badq"), "PONG"),
        send("w", pub("pm.q.any.x", "m")),
        expect_unordered("q", msg("pm.q.any.x", 2, "m"), msg("pm.q.any.x", 3, "m"),
                         msg("pm.q.any.x", 4, "m")),
    ], config=PERMS, tags=SEC),
    # allow_responses without a publish block: only replies to received requests, one each.
    Case("security/perm_allow_responses_one_reply", [
        login("w", "watcher", "w"), login("r", "responder", "r"),
        send("r", "SUB pm.svc.> 1\r\nPING\r\n"), expect("r", "PONG"),
        send("w", "SUB pm.inbox.* 9\r\nPING\r\n"), expect("w", "PONG"),
        send("w", pub("pm.svc.a", "q1", reply="pm.inbox.1")),
        expect("r", msg("pm.svc.a", 1, "q1", reply="pm.inbox.1")),
        send("r", pub("pm.inbox.1", "r1") + pub("pm.inbox.1", "again") + pub("pm.svc.other", "x")
             + pub("pm.inbox.2", "unasked") + "PING\r\n"),
        expect("r", pub_denied("pm.inbox.1"), pub_denied("pm.svc.other"), pub_denied("pm.inbox.2"),
               "PONG"),
        send("w", pub("pm.svc.b", "q2", reply="pm.inbox.3")),
        expect("r", msg("pm.svc.b", 1, "q2", reply="pm.inbox.3")),
        send("r", pub("pm.inbox.3", "r3")),
        expect("w", msg("pm.inbox.1", 9, "r1"), msg("pm.inbox.3", 9, "r3")),
    ], config=PERMS, tags=SEC),
    # {max: 2}: two replies pass, the third is refused; the publish allow list still works.
    Case("security/perm_allow_responses_max", [
        login("w", "watcher", "w"), login("r", "responder2", "r"),
        send("r", "SUB pm.rm.> 1\r\nPING\r\n"), expect("r", "PONG"),
        send("w", "SUB pm.rminbox 9\r\nPING\r\n"), expect("w", "PONG"),
        send("w", pub("pm.rm.req", "q", reply="pm.rminbox")),
        expect("r", msg("pm.rm.req", 1, "q", reply="pm.rminbox")),
        send("r", pub("pm.rminbox", "1") + pub("pm.rminbox", "2") + pub("pm.rminbox", "3")
             + pub("pm.rm.open", "open") + pub("pm.rm.closed", "x") + "PING\r\n"),
        expect("r", pub_denied("pm.rminbox"), msg("pm.rm.open", 1, "open"), pub_denied("pm.rm.closed"),
               "PONG"),
        expect("w", msg("pm.rminbox", 9, "1"), msg("pm.rminbox", 9, "2")),
    ], config=PERMS, tags=SEC),
    # allow_responses turns a deny-only publish block into "deny everything but replies"
    # (auth.go validateResponsePermissions: a missing allow list becomes an empty one).
    Case("security/perm_allow_responses_with_deny_only_publish", [
        login("w", "watcher", "w"), login("r", "responder3", "r"),
        send("r", "SUB pm.rd.> 1\r\nPING\r\n"), expect("r", "PONG"),
        send("w", "SUB pm.rdinbox 9\r\nPING\r\n"), expect("w", "PONG"),
        send("w", pub("pm.rd.req", "q", reply="pm.rdinbox")),
        expect("r", msg("pm.rd.req", 1, "q", reply="pm.rdinbox")),
        send("r", pub("pm.rd.other", "x") + pub("pm.rd.no", "x") + pub("pm.rdinbox", "ok")
             + "PING\r\n"),
        expect("r", pub_denied("pm.rd.other"), pub_denied("pm.rd.no"), "PONG"),
        expect("w", msg("pm.rdinbox", 9, "ok")),
    ], config=PERMS, tags=SEC),
    # {expires: "1s"}: a reply after the window is refused, one within it passes.
    Case("security/perm_allow_responses_expires", [
        login("w", "watcher", "w"), login("r", "responder4", "r"),
        send("r", "SUB pm.rx.> 1\r\nPING\r\n"), expect("r", "PONG"),
        send("w", "SUB pm.rxinbox.* 9\r\nPING\r\n"), expect("w", "PONG"),
        send("w", pub("pm.rx.req", "q", reply="pm.rxinbox.late")
             + pub("pm.rx.req", "q", reply="pm.rxinbox.soon")),
        expect("r", msg("pm.rx.req", 1, "q", reply="pm.rxinbox.late"),
               msg("pm.rx.req", 1, "q", reply="pm.rxinbox.soon")),
        send("r", pub("pm.rxinbox.soon", "soon")),
        expect("w", msg("pm.rxinbox.soon", 9, "soon")),
        sleep(1.5),
        send("r", pub("pm.rxinbox.late", "late") + "PING\r\n"),
        expect("r", pub_denied("pm.rxinbox.late"), "PONG"),
    ], config=PERMS, tags=SEC),
]

DEFAULT_PERMS = """
authorization {
  default_permissions: {publish: {deny: "dp.secret.>"}, subscribe: {allow: "dp.>"}}
  users: [
    {user: plain, password: p}
    {user: own, password: o, permissions: {publish: "dp.own.>"}}
  ]
}
"""

# In an authorization block "permissions" is another name for default_permissions.
PERMISSIONS_ALIAS = """
authorization {
  permissions: {publish: "da.ok"}
  users: [{user: plain, password: p}]
}
"""

DEFAULT_PERM_CASES = [
    Case("security/default_permissions_apply", [
        login("a", "plain", "p"),
        send("a", "SUB dp.a 1\r\nSUB other.a 2\r\nPING\r\n"),
        expect("a", sub_denied("other.a"), "PONG"),
        send("a", pub("dp.secret.x", "no") + pub("dp.a", "yes") + "PING\r\n"),
        expect("a", pub_denied("dp.secret.x"), msg("dp.a", 1, "yes"), "PONG"),
    ], config=DEFAULT_PERMS, tags=SEC),
    # A user's own permissions replace the defaults as a whole; nothing is merged.
    Case("security/default_permissions_replaced_by_own", [
        login("a", "own", "o"),
        send("a", "SUB other.b 1\r\nSUB dp.own.x 2\r\nPING\r\n"),
        expect("a", "PONG"),
        send("a", pub("dp.b", "no") + pub("dp.own.x", "yes") + "PING\r\n"),
        expect("a", pub_denied("dp.b"), msg("dp.own.x", 2, "yes"), "PONG"),
    ], config=DEFAULT_PERMS, tags=SEC),
    Case("security/default_permissions_alias_permissions", [
        login("a", "plain", "p"),
        send("a", "SUB da.> 1\r\nPING\r\n"), expect("a", "PONG"),
        send("a", pub("da.no", "no") + pub("da.ok", "yes") + "PING\r\n"),
        expect("a", pub_denied("da.no"), msg("da.ok", 1, "yes"), "PONG"),
    ], config=PERMISSIONS_ALIAS, tags=SEC),
]

# Without any permissions configured: reply subjects with the prefixes nats-server reserves
# for service imports ("_R_."), JetStream acks ("$JS.ACK.") and gateway replies ("_GR_.")
# are refused with "Publish with Reply of", publishing to "_GR_." subjects is refused, and
# so is the queue group "_sys_" (client.go processInboundClientMsg, isReservedReply,
# processSubEx). The message is dropped; the connection stays open.
RESERVED_CASES = [
    Case("security/reserved_reply_prefixes_refused", [
        ready("s"), ready("p"),
        send("s", "SUB rv.a 1\r\nPING\r\n"), expect("s", "PONG"),
        send("p", pub("rv.a", "1", reply="_R_.abc") + pub("rv.a", "2", reply="$JS.ACK.x")
             + pub("rv.a", "3", reply="_GR_.x") + pub("rv.a", "4", reply="_R_x")
             + pub("rv.a", "5", reply="_R_.") + "PING\r\n"),
        expect("p", "-ERR 'Permissions Violation for Publish with Reply of \"_R_.abc\"'",
               "-ERR 'Permissions Violation for Publish with Reply of \"$JS.ACK.x\"'",
               "-ERR 'Permissions Violation for Publish with Reply of \"_GR_.x\"'",
               "-ERR 'Permissions Violation for Publish with Reply of \"_R_.\"'", "PONG"),
        expect("s", msg("rv.a", 1, "4", reply="_R_x")),
    ], tags=SEC),
    Case("security/reserved_gateway_reply_subject_refused", [
        ready("s"), ready("p"),
        send("s", "SUB _GR_.> 1\r\nSUB rv.b 2\r\nPING\r\n"), expect("s", "PONG"),
        send("p", pub("_GR_.abc.x", "no") + pub("rv.b", "after") + "PING\r\n"),
        expect("p", pub_denied("_GR_.abc.x"), "PONG"),
        expect("s", msg("rv.b", 2, "after")),
    ], tags=SEC),
    Case("security/reserved_queue_group_sys", [
        ready("a"),
        send("a", "SUB rv.c _sys_ 1\r\nSUB rv.c _sys 2\r\nPING\r\n"),
        expect("a", sub_denied("rv.c", "_sys_"), "PONG"),
    ], tags=SEC),
]


# -- Accounts -----------------------------------------------------------------------------

ACCOUNTS = f"""
authorization {{
  users: [{{user: g, password: g}}]
}}
accounts {{
  A: {{
    users: [{{user: a, password: a}}, {{user: a2, password: a2}}, {{nkey: "{K1.public_key}"}}]
    exports: [
      {{stream: "ac.pub.>"}}
      {{stream: "ac.priv.>", accounts: [B]}}
      {{service: "ac.svc.>"}}
      {{service: "ac.multi.>", response_type: stream}}
    ]
    imports: [
      {{stream: {{account: B, subject: "bc.pub.>"}}}}
    ]
  }}
  B: {{
    users: [{{user: b, password: b}}, {{user: b2, password: b2}}]
    exports: [
      {{stream: "bc.pub.>"}}
    ]
    imports: [
      {{stream: {{account: A, subject: "ac.pub.>"}}, prefix: "fromA"}}
      {{stream: {{account: A, subject: "ac.priv.>"}}, to: "ac.mine.>"}}
      {{service: {{account: A, subject: "ac.svc.echo"}}}}
      {{service: {{account: A, subject: "ac.svc.remap"}}, to: "bs.remapped"}}
      {{service: {{account: A, subject: "ac.multi.x"}}}}
    ]
  }}
  C: {{
    users: [{{user: c, password: c}}]
    imports: [
      {{stream: {{account: A, subject: "ac.pub.lit.x"}}}}
      {{stream: {{account: A, subject: "ac.pub.csent.>"}}}}
    ]
  }}
}}
"""


REQUEST_INFO_B = 'NATS/1.0\r\nNats-Request-Info: {"acc":"B","rtt":<rtt>}\r\n\r\n'


def accounts_ready():
    """a (account A), b (account B), c (account C), logged in."""
    return [login("a", "a", "a"), login("b", "b", "b"), login("c", "c", "c")]


# The scheduler sees subjects, not accounts or import mappings: every case uses its own
# token after the exported prefix ("ac.pub.pfx.…"), so that a message that crosses into
# another account can only meet that case's own subscriptions.
#
# Showing that a message did not cross accounts needs a sentinel from the same publisher
# that does cross: A's "ac.pub.>" reaches B as "fromA.ac.pub.>", and C as itself for
# "ac.pub.lit.x" and "ac.pub.csent.>"; B's "bc.pub.>" reaches A unchanged.
ACCOUNT_CASES = [
    Case("security/acct_same_subject_isolated", [
        accounts_ready(),
        send("a", "SUB ac.iso.x 1\r\nSUB bc.pub.iso.sentinel 2\r\nPING\r\n"), expect("a", "PONG"),
        send("b", "SUB ac.iso.x 1\r\nSUB fromA.ac.pub.iso.sentinel 2\r\nPING\r\n"),
        expect("b", "PONG"),
        send("a", pub("ac.iso.x", "from A") + pub("ac.pub.iso.sentinel", "A done")),
        expect("a", msg("ac.iso.x", 1, "from A")),
        expect("b", msg("fromA.ac.pub.iso.sentinel", 2, "A done")),
        send("b", pub("ac.iso.x", "from B") + pub("bc.pub.iso.sentinel", "B done")),
        expect("b", msg("ac.iso.x", 1, "from B")),
        expect("a", msg("bc.pub.iso.sentinel", 2, "B done")),
    ], config=ACCOUNTS, tags=SEC),
    # Two users of one account share it; so does an nkey user of that account.
    Case("security/acct_users_of_one_account_share", [
        login("a", "a", "a"), login("a2", "a2", "a2"), nkey_login("k", K1),
        send("a2", "SUB ac.share 1\r\nPING\r\n"), expect("a2", "PONG"),
        send("k", "SUB ac.share 1\r\nPING\r\n"), expect("k", "PONG"),
        send("a", pub("ac.share", "hi")),
        expect("a2", msg("ac.share", 1, "hi")),
        expect("k", msg("ac.share", 1, "hi")),
    ], config=ACCOUNTS, tags=SEC),
    # Users outside accounts are in the global account, isolated from A. There is no
    # sentinel path to or from the global account, so this relies on PING round trips and
    # on the final check that nothing else arrives.
    Case("security/acct_global_users_isolated", [
        login("a", "a", "a"), login("g", "g", "g"),
        send("a", "SUB ac.glob 1\r\nPING\r\n"), expect("a", "PONG"),
        send("g", "SUB ac.glob 1\r\nPING\r\n"), expect("g", "PONG"),
        send("a", pub("ac.glob", "from A") + "PING\r\n"),
        expect("a", msg("ac.glob", 1, "from A"), "PONG"),
        send("g", pub("ac.glob", "from G") + "PING\r\n"),
        expect("g", msg("ac.glob", 1, "from G"), "PONG"),
        send("a", "PING\r\n"), expect("a", "PONG"),
    ], config=ACCOUNTS, tags=SEC),
    # Stream export imported with a prefix; the reply subject passes through unchanged.
    Case("security/acct_stream_import_prefix", [
        accounts_ready(),
        send("b", "SUB fromA.ac.pub.pfx.> 1\r\nSUB ac.pub.pfx.> 2\r\nPING\r\n"), expect("b", "PONG"),
        send("a", pub("ac.pub.pfx.one", "1") + pub("ac.pub.pfx.two.x", "2", reply="ac.reply")),
        expect("b", msg("fromA.ac.pub.pfx.one", 1, "1"),
               msg("fromA.ac.pub.pfx.two.x", 1, "2", reply="ac.reply")),
    ], config=ACCOUNTS, tags=SEC),
    # Stream import with "to": the subject is mapped, the tokens under ">" kept.
    Case("security/acct_stream_import_to", [
        accounts_ready(),
        send("b", "SUB ac.mine.to.> 1\r\nSUB ac.priv.to.> 2\r\nPING\r\n"), expect("b", "PONG"),
        send("a", pub("ac.priv.to.k", "1") + pub("ac.priv.to.k.l", "2")),
        expect("b", msg("ac.mine.to.k", 1, "1"), msg("ac.mine.to.k.l", 1, "2")),
    ], config=ACCOUNTS, tags=SEC),
    # Importing one literal subject of a wildcard export, without prefix: same subject.
    Case("security/acct_stream_import_literal_subset", [
        accounts_ready(),
        send("c", "SUB ac.pub.lit.> 1\r\nPING\r\n"), expect("c", "PONG"),
        send("a", pub("ac.pub.lit.y", "not imported") + pub("ac.pub.lit.x", "imported")),
        expect("c", msg("ac.pub.lit.x", 1, "imported")),
    ], config=ACCOUNTS, tags=SEC),
    # Members of a queue group in the importing account share the imported stream.
    Case("security/acct_stream_import_queue_group", [
        login("a", "a", "a"), login("b", "b", "b"), login("b2", "b2", "b2"),
        send("b", "SUB fromA.ac.pub.qg.x workers 1\r\nPING\r\n"), expect("b", "PONG"),
        send("b2", "SUB fromA.ac.pub.qg.x workers 1\r\nPING\r\n"), expect("b2", "PONG"),
        send("a", "".join(pub("ac.pub.qg.x", str(i)) for i in range(10))),
        exactly_once(["b", "b2"], *[msg("fromA.ac.pub.qg.x", 1, str(i)) for i in range(10)]),
    ], config=ACCOUNTS, tags=SEC),
    # C does not import the private export (only B may): nothing reaches C.
    Case("security/acct_private_stream_not_seen_by_others", [
        accounts_ready(),
        send("c", "SUB ac.priv.ps.> 1\r\nSUB ac.mine.ps.> 2\r\nSUB ac.pub.csent.ps 3\r\nPING\r\n"),
        expect("c", "PONG"),
        send("a", pub("ac.priv.ps.z", "private") + pub("ac.pub.csent.ps", "sentinel")),
        expect("c", msg("ac.pub.csent.ps", 3, "sentinel")),
    ], config=ACCOUNTS, tags=SEC),
    # Streams flow one way: the importer publishing on the imported subject stays in B.
    Case("security/acct_stream_import_is_one_way", [
        accounts_ready(),
        send("a", "SUB ac.pub.ow.> 1\r\nSUB bc.pub.ow.back 2\r\nPING\r\n"), expect("a", "PONG"),
        send("b", "SUB fromA.ac.pub.ow.> 1\r\nPING\r\n"), expect("b", "PONG"),
        send("b", pub("fromA.ac.pub.ow.w", "b1") + pub("ac.pub.ow.w", "b2")
             + pub("bc.pub.ow.back", "done")),
        expect("b", msg("fromA.ac.pub.ow.w", 1, "b1")),
        expect("a", msg("bc.pub.ow.back", 2, "done")),
    ], config=ACCOUNTS, tags=SEC),
    # A reply to a stream-imported message goes to the importer's own namespace.
    Case("security/acct_stream_reply_stays_in_importer", [
        accounts_ready(),
        send("a", "SUB ac.sreply 1\r\nSUB bc.pub.sr.done 2\r\nPING\r\n"), expect("a", "PONG"),
        send("b", "SUB fromA.ac.pub.sr.q 1\r\nPING\r\n"), expect("b", "PONG"),
        send("a", pub("ac.pub.sr.q", "q", reply="ac.sreply")),
        expect("b", msg("fromA.ac.pub.sr.q", 1, "q", reply="ac.sreply")),
        send("b", pub("ac.sreply", "answer") + pub("bc.pub.sr.done", "done")),
        expect("a", msg("bc.pub.sr.done", 2, "done")),
    ], config=ACCOUNTS, tags=SEC),
    # Service import: B requests, A responds. A sees a random "_R_.xxxxxx.yyyyyy" reply
    # subject, never B's inbox; the reply reaches B on its inbox.
    Case("security/acct_service_request_reply", [
        accounts_ready(),
        send("a", "SUB ac.svc.> 1\r\nPING\r\n"), expect("a", "PONG"),
        send("b", "SUB inbox.b.* 1\r\nPING\r\n"), expect("b", "PONG"),
        send("b", pub("ac.svc.echo", "ping", reply="inbox.b.1")),
        expect("a", capture(msg("ac.svc.echo", 1, "ping", reply="${rep}"))),
        send("a", pub("${rep}", "pong")),
        expect("b", msg("inbox.b.1", 1, "pong")),
    ], config=ACCOUNTS, tags=SEC),
    # Singleton (the default response type): one reply only; a second one is dropped.
    Case("security/acct_service_singleton_second_reply_dropped", [
        accounts_ready(),
        send("a", "SUB ac.svc.> 1\r\nPING\r\n"), expect("a", "PONG"),
        send("b", "SUB inbox.b.* 1\r\nPING\r\n"), expect("b", "PONG"),
        send("b", pub("ac.svc.echo", "q1", reply="inbox.b.1")),
        expect("a", capture(msg("ac.svc.echo", 1, "q1", reply="${rep1}"))),
        send("a", pub("${rep1}", "r1") + pub("${rep1}", "r1 again") + "PING\r\n"),
        expect("a", "PONG"),
        send("b", pub("ac.svc.echo", "q2", reply="inbox.b.2")),
        expect("a", capture(msg("ac.svc.echo", 1, "q2", reply="${rep2}"))),
        send("a", pub("${rep2}", "r2")),
        expect("b", msg("inbox.b.1", 1, "r1"), msg("inbox.b.2", 1, "r2")),
    ], config=ACCOUNTS, tags=SEC),
    # response_type: stream allows several replies to one request.
    Case("security/acct_service_stream_response_type", [
        accounts_ready(),
        send("a", "SUB ac.multi.> 1\r\nPING\r\n"), expect("a", "PONG"),
        send("b", "SUB inbox.b.m 1\r\nPING\r\n"), expect("b", "PONG"),
        send("b", pub("ac.multi.x", "q", reply="inbox.b.m")),
        expect("a", capture(msg("ac.multi.x", 1, "q", reply="${rep}"))),
        send("a", pub("${rep}", "part 1") + pub("${rep}", "part 2") + pub("${rep}", "part 3")),
        expect("b", msg("inbox.b.m", 1, "part 1"), msg("inbox.b.m", 1, "part 2"),
               msg("inbox.b.m", 1, "part 3")),
    ], config=ACCOUNTS, tags=SEC),
    # Service import with "to": B publishes on its local subject, A gets the export subject.
    Case("security/acct_service_import_to", [
        accounts_ready(),
        send("a", "SUB ac.svc.> 1\r\nPING\r\n"), expect("a", "PONG"),
        send("b", "SUB inbox.b.t 1\r\nPING\r\n"), expect("b", "PONG"),
        send("b", pub("bs.remapped", "q", reply="inbox.b.t")),
        expect("a", capture(msg("ac.svc.remap", 1, "q", reply="${rep}"))),
        send("a", pub("${rep}", "done")),
        expect("b", msg("inbox.b.t", 1, "done")),
    ], config=ACCOUNTS, tags=SEC),
    # A responder that supports headers gets each cross-account request with a header
    # Nats-Request-Info: {"acc":<requesting account>,"rtt":<requester's rtt in ns>}, after
    # the request's own headers (client.go processServiceImport). The harness reads the rtt
    # value as <rtt>. A responder without headers gets plain MSGs (the other cases).
    Case("security/acct_service_request_info_header", [
        login("a", "a", "a", headers=True), login("b", "b", "b", headers=True),
        send("a", "SUB ac.svc.> 1\r\nPING\r\n"), expect("a", "PONG"),
        send("b", pub("ac.svc.echo", "plain", reply="inbox.b.h")
             + hpub("ac.svc.echo", "NATS/1.0\r\nX: y\r\n\r\n", "with header", reply="inbox.b.h")
             + pub("ac.svc.echo", "no reply")),
        expect("a", hmsg("ac.svc.echo", 1, REQUEST_INFO_B, "plain", reply=SERVICE_REPLY),
               hmsg("ac.svc.echo", 1, "NATS/1.0\r\nX: y\r\n" + REQUEST_INFO_B[10:],
                    "with header", reply=SERVICE_REPLY),
               hmsg("ac.svc.echo", 1, REQUEST_INFO_B, "no reply")),
    ], config=ACCOUNTS, tags=SEC),
    # A request without a reply subject arrives without one.
    Case("security/acct_service_request_without_reply", [
        accounts_ready(),
        send("a", "SUB ac.svc.> 1\r\nPING\r\n"), expect("a", "PONG"),
        send("b", pub("ac.svc.echo", "fire and forget")),
        expect("a", msg("ac.svc.echo", 1, "fire and forget")),
    ], config=ACCOUNTS, tags=SEC),
    # A request into a service import counts as delivered even with no responder in the
    # exporting account: no 503 status for a no_responders requester (nats-server 2.9.10).
    Case("security/acct_service_import_without_responder_no_503", [
        login("b", "b", "b", headers=True, no_responders=True, protocol=1),
        send("b", "SUB inbox.nr.b 1\r\n" + pub("ac.svc.echo", "anyone?", reply="inbox.nr.b")
             + "PING\r\n"),
        expect("b", "PONG"),
    ], config=ACCOUNTS, tags=SEC),
    # Only imported service subjects cross: B's other "ac.svc.*" publishes stay in B. C
    # imports no service at all (checked with a PING round trip and the final check only).
    Case("security/acct_service_only_imported_subjects", [
        accounts_ready(),
        send("a", "SUB ac.svc.> 1\r\nPING\r\n"), expect("a", "PONG"),
        send("c", pub("ac.svc.echo", "from C") + "PING\r\n"), expect("c", "PONG"),
        send("b", pub("ac.svc.other", "not imported") + pub("bs.remapped.x", "not imported")
             + pub("ac.svc.echo", "imported")),
        expect("a", msg("ac.svc.echo", 1, "imported")),
    ], config=ACCOUNTS, tags=SEC),
]


# no_auth_user: a client without credentials logs in as that user, here a user of account A.
NO_AUTH_USER = """
authorization {timeout: 0.5}
accounts {
  A: {users: [{user: na, password: na}]}
  B: {users: [{user: nb, password: nb}], default_permissions: {publish: "nb.>"}}
}
no_auth_user: na
"""

NO_AUTH_CASES = [
    Case("security/no_auth_user_info_says_no_auth_required", [
        connect("x"),
        check_info("x", absent=("auth_required", "nonce")),
    ], config=NO_AUTH_USER, tags=AUTH),
    Case("security/no_auth_user_binds_to_account_user", [
        login("na", "na", "na"),
        ready("x"),
        send("na", "SUB nu.a 1\r\nPING\r\n"), expect("na", "PONG"),
        send("x", pub("nu.a", "from x")),
        expect("na", msg("nu.a", 1, "from x")),
    ], config=NO_AUTH_USER, tags=AUTH),
    # Ops before CONNECT are accepted (with the defaults: verbose) and already run as the
    # no_auth_user, in its account (parser.go: the first op registers the user).
    Case("security/no_auth_user_ops_before_connect", [
        login("na", "na", "na"),
        connect("x"),
        send("x", "SUB nu.b 1\r\nPING\r\n"),
        expect("x", "+OK", "PONG"),
        send("na", pub("nu.b", "one")),
        expect("x", msg("nu.b", 1, "one")),
    ], config=NO_AUTH_USER, tags=AUTH),
    # A quirk: after ops before CONNECT, a CONNECT without credentials is refused. The
    # first op stored the user name in the client's options (client.go RegisterUser), the
    # CONNECT JSON is decoded over them, and a user name without password fails.
    Case("security/no_auth_user_connect_after_ops_refused", [
        connect("x"),
        send("x", "PING\r\n"),
        expect("x", "PONG"),
        send("x", 'CONNECT {"verbose":false}\r\n'),
        expect("x", VIOLATION),
        expect_close("x"),
    ], config=NO_AUTH_USER, tags=AUTH),
    # With the user's credentials that CONNECT passes.
    Case("security/no_auth_user_connect_after_ops_with_credentials", [
        connect("x"),
        send("x", "PING\r\n"),
        expect("x", "PONG"),
        send("x", 'CONNECT {"verbose":false,"user":"na","pass":"na"}\r\nPING\r\n'),
        expect("x", "PONG"),
    ], config=NO_AUTH_USER, tags=AUTH),
    # INFO says no auth is required, yet the auth timer runs: a client that sends nothing
    # is dropped (server.go createClient arms it from the unmodified auth_required).
    Case("security/no_auth_user_silent_client_times_out", [
        connect("x"),
        expect("x", "-ERR 'Authentication Timeout'", timeout=3, at=(0.3, 2.0)),
        expect_close("x"),
    ], config=NO_AUTH_USER, tags=AUTH),
    # Explicit credentials pick their own user: nb is in account B, with B's defaults.
    Case("security/no_auth_user_explicit_credentials_win", [
        login("na", "na", "na"), login("nb", "nb", "nb"),
        send("na", "SUB nu.c 1\r\nPING\r\n"), expect("na", "PONG"),
        send("nb", "SUB nu.c 1\r\nSUB nb.x 2\r\nPING\r\n"), expect("nb", "PONG"),
        send("nb", pub("nu.c", "no") + pub("nb.x", "yes") + "PING\r\n"),
        expect("nb", pub_denied("nu.c"), msg("nb.x", 2, "yes"), "PONG"),
    ], config=NO_AUTH_USER, tags=SEC),
    # Any credential field turns the fallback off: bad ones are refused, not ignored.
    Case("security/no_auth_user_wrong_password_refused", [
        refused("x", {"user": "na", "pass": "bad"}),
    ], config=NO_AUTH_USER, tags=AUTH),
    Case("security/no_auth_user_user_without_password_refused", [
        refused("x", {"user": "nb"}),
    ], config=NO_AUTH_USER, tags=AUTH),
    Case("security/no_auth_user_password_alone_refused", [
        refused("x", {"pass": "na"}),
    ], config=NO_AUTH_USER, tags=AUTH),
    Case("security/no_auth_user_token_refused", [
        refused("x", {"auth_token": "na"}),
    ], config=NO_AUTH_USER, tags=AUTH),
]


# -- Configs both servers must refuse at start-up -----------------------------------------

def refused_config(name, text):
    return Case(name, [], config=text, tags=SEC, rejects_config=True)


CONFIG_CASES = [
    refused_config("security/config_private_stream_import_refused", """
accounts {
  A: {users: [{user: a, password: a}], exports: [{stream: "priv.>", accounts: [B]}]}
  B: {users: [{user: b, password: b}], imports: [{stream: {account: A, subject: "priv.>"}}]}
  C: {users: [{user: c, password: c}], imports: [{stream: {account: A, subject: "priv.>"}}]}
}"""),
    refused_config("security/config_private_service_import_refused", """
accounts {
  A: {users: [{user: a, password: a}], exports: [{service: "svc.>", accounts: [B]}]}
  B: {users: [{user: b, password: b}]}
  C: {users: [{user: c, password: c}], imports: [{service: {account: A, subject: "svc.x"}}]}
}"""),
    refused_config("security/config_import_of_unexported_stream_refused", """
accounts {
  A: {users: [{user: a, password: a}], exports: [{stream: "s.>"}]}
  C: {users: [{user: c, password: c}], imports: [{stream: {account: A, subject: "t.x"}}]}
}"""),
    refused_config("security/config_service_import_of_stream_export_refused", """
accounts {
  A: {users: [{user: a, password: a}], exports: [{stream: "s.>"}]}
  C: {users: [{user: c, password: c}], imports: [{service: {account: A, subject: "s.x"}}]}
}"""),
    refused_config("security/config_import_from_unknown_account_refused", """
accounts {
  A: {users: [{user: a, password: a}], imports: [{stream: {account: Z, subject: "s.x"}}]}
}"""),
    refused_config("security/config_same_user_in_two_accounts_refused", """
accounts {
  A: {users: [{user: x, password: a}]}
  B: {users: [{user: x, password: b}]}
}"""),
    refused_config("security/config_single_user_with_accounts_refused", """
authorization {user: u, password: p}
accounts {
  A: {users: [{user: x, password: a}]}
}"""),
    refused_config("security/config_nkey_user_with_username_refused", f"""
authorization {{users: [{{nkey: "{K1.public_key}", user: bob}}]}}"""),
    refused_config("security/config_invalid_nkey_refused", """
authorization {users: [{nkey: "UNOTAKEY"}]}"""),
    # An account key is no user key.
    refused_config("security/config_account_key_as_user_nkey_refused", """
authorization {users: [{nkey: "AC5GRL36RQV7MJ2GT6WQSCKDKJKYTK4T2LGLWJ2SEJKRDHFOQQWGGFQL"}]}"""),
]

# -- Import edge cases ----------------------------------------------------------------------

# Stream imports whose "to" has wildcards or mapping references, a service import with a
# wildcard "to", chunked and stream responses, allow_responses and subscribe permissions
# inside accounts. X exports, Y imports, Z re-imports X's "xq.>" as a stream. Every import
# has its own subjects, because the scheduler cannot see where an import maps a subject.
EDGE = """
accounts {
  X: {
    users: [
      {user: x, password: x}
      {user: xr, password: xr, permissions: {publish: "xq.ar.ok", subscribe: "xq.>", allow_responses: true}}
    ]
    exports: [
      {stream: "xs.>"}
      {stream: "xq.>"}
      {service: "xq.>"}
      {service: "xc.>", response_type: chunked}
      {service: "xm.>", response_type: stream}
    ]
  }
  Y: {
    users: [
      {user: y, password: y}, {user: y2, password: y2}, {user: y3, password: y3}
      {user: yl, password: yl, permissions: {subscribe: {allow: "yl.>", deny: "yl.xs.pl.secret"}}}
    ]
    imports: [
      {stream: {account: X, subject: "xs.tw.*.in"}, to: "tw.*.out"}
      {stream: {account: X, subject: "xs.dl.*.*"}, to: "dl.$2.$1"}
      {stream: {account: X, subject: "xs.mu.*"}, to: "mu.{{wildcard(1)}}.end"}
      {stream: {account: X, subject: "xs.fw.>"}, to: "pre.>"}
      {stream: {account: X, subject: "xs.q.>"}}
      {stream: {account: X, subject: "xs.h.>"}, prefix: hp}
      {stream: {account: X, subject: "xs.pl.>"}, prefix: yl}
      {service: {account: X, subject: "xq.w.*"}, to: "ask.*"}
      {service: {account: X, subject: "xq.echo"}}
      {service: {account: X, subject: "xq.ar"}}
      {service: {account: X, subject: "xq.rx"}}
      {service: {account: X, subject: "xc.c"}}
      {service: {account: X, subject: "xm.m"}}
      {service: {account: X, subject: "xm.u"}}
    ]
  }
  Z: {
    users: [{user: z, password: z}]
    imports: [{stream: {account: X, subject: "xq.>"}, prefix: z}]
  }
}
"""



def request_from_y(subject, payload, headers="", rep="rep"):
    """capture() of a request from account Y as a headers-capable responder gets it, saving
    the reply subject as `rep`. capture() sees the raw frame, so the rtt and both sizes
    (which depend on the rtt's digits) are tokens too; the transcript shows them
    normalized."""
    return capture(f"HMSG {subject} 1 ${{{rep}}} ${{hsize}} ${{tsize}}\r\nNATS/1.0\r\n{headers}"
                   f'Nats-Request-Info: {{"acc":"Y","rtt":${{rtt}}}}\r\n\r\n{payload}')

EDGE_CASES = [
    # to: "tw.*.out" for "xs.tw.*.in": the "*" carries the token across. A literal
    # subscription, a wider one and one that only overlaps the import all get it.
    Case("security/edge_stream_import_to_with_star", [
        login("x", "x", "x"), login("y", "y", "y"),
        send("y", "SUB tw.> 1\r\nSUB tw.k.out 2\r\nSUB tw.k.* 3\r\nSUB tw.j.out 4\r\nSUB tw.*.in 5\r\n"
             "PING\r\n"),
        expect("y", "PONG"),
        send("x", pub("xs.tw.k.in", "1") + pub("xs.tw.k.no", "x") + pub("xs.tw.j.in", "2")),
        expect_unordered("y", msg("tw.k.out", 1, "1"), msg("tw.k.out", 2, "1"),
                         msg("tw.k.out", 3, "1")),
        expect_unordered("y", msg("tw.j.out", 1, "2"), msg("tw.j.out", 4, "2")),
    ], config=EDGE, tags=SEC),
    # to: "dl.$2.$1" swaps the two wildcard tokens.
    Case("security/edge_stream_import_to_dollar_reorder", [
        login("x", "x", "x"), login("y", "y", "y"),
        send("y", "SUB dl.> 1\r\nSUB dl.b.a 2\r\nPING\r\n"), expect("y", "PONG"),
        send("x", pub("xs.dl.a.b", "1") + pub("xs.dl.c.d", "2")),
        expect_unordered("y", msg("dl.b.a", 1, "1"), msg("dl.b.a", 2, "1")),
        expect("y", msg("dl.d.c", 1, "2")),
    ], config=EDGE, tags=SEC),
    # to: "mu.{{wildcard(1)}}.end" is accepted and maps like "mu.$1.end" for wildcard
    # subscriptions. A quirk: the import's "to" keeps the "{{wildcard(1)}}" token as text
    # (accounts.go transformUntokenize converts "$N" tokens to "*", not "{{...}}" ones), so
    # a literal subscription "mu.k.end" matches no import (client.go
    # addShadowSubscriptions) and gets nothing.
    Case("security/edge_stream_import_to_mustache_wildcard", [
        login("x", "x", "x"), login("y", "y", "y"),
        send("y", "SUB mu.> 1\r\nSUB mu.*.end 2\r\nSUB mu.k.end 3\r\nPING\r\n"), expect("y", "PONG"),
        send("x", pub("xs.mu.k", "1") + pub("xs.mu.j", "2")),
        expect_unordered("y", msg("mu.k.end", 1, "1"), msg("mu.k.end", 2, "1")),
        expect_unordered("y", msg("mu.j.end", 1, "2"), msg("mu.j.end", 2, "2")),
    ], config=EDGE, tags=SEC,
       known_difference="natrix maps {{wildcard(N)}} in a stream import's `to` like $N for every "
                        "subscriber, literal ones included; nats-server 2.9.10 leaves literal "
                        "subscriptions out (docs/protocol_compatibility.md)"),
    # to: "pre.>" for "xs.fw.>": the tokens under ">" are kept.
    Case("security/edge_stream_import_to_full_wildcard", [
        login("x", "x", "x"), login("y", "y", "y"),
        send("y", "SUB pre.> 1\r\nSUB pre.a.b 2\r\nSUB pre.* 3\r\nPING\r\n"), expect("y", "PONG"),
        send("x", pub("xs.fw.a.b", "1") + pub("xs.fw.c", "2") + pub("xs.fw.d.e.f", "3")),
        expect_unordered("y", msg("pre.a.b", 1, "1"), msg("pre.a.b", 2, "1")),
        expect_unordered("y", msg("pre.c", 1, "2"), msg("pre.c", 3, "2")),
        expect("y", msg("pre.d.e.f", 1, "3")),
    ], config=EDGE, tags=SEC),
    # Service import {subject: "xq.w.*"}, to: "ask.*": Y's "ask.k" reaches X as "xq.w.k".
    # "ask.k.l" does not match the import, and Y's own "xq.w.k" stays in Y.
    Case("security/edge_service_import_wildcard_to", [
        login("x", "x", "x"), login("y", "y", "y"),
        send("x", "SUB xq.w.* 1\r\nPING\r\n"), expect("x", "PONG"),
        send("y", "SUB inbox.ew 1\r\nPING\r\n"), expect("y", "PONG"),
        send("y", pub("ask.k.l", "not imported") + pub("xq.w.k", "local")
             + pub("ask.k", "q", reply="inbox.ew")),
        expect("x", capture(msg("xq.w.k", 1, "q", reply="${rep}"))),
        send("x", pub("${rep}", "answer")),
        expect("y", msg("inbox.ew", 1, "answer")),
    ], config=EDGE, tags=SEC),
    # An imported stream reaches a queue group (each message once) and, besides, a plain
    # subscription ">" in the importing account (every message).
    Case("security/edge_stream_import_queue_group_and_full_wildcard", [
        login("x", "x", "x"), login("y", "y", "y"), login("y2", "y2", "y2"),
        login("y3", "y3", "y3"),
        send("y", "SUB xs.q.a workers 1\r\nPING\r\n"), expect("y", "PONG"),
        send("y2", "SUB xs.q.a workers 1\r\nPING\r\n"), expect("y2", "PONG"),
        send("y3", "SUB > 1\r\nPING\r\n"), expect("y3", "PONG"),
        send("x", "".join(pub("xs.q.a", str(i)) for i in range(8))),
        exactly_once(["y", "y2"], *[msg("xs.q.a", 1, str(i)) for i in range(8)]),
        expect("y3", *[msg("xs.q.a", 1, str(i)) for i in range(8)]),
    ], config=EDGE, tags=SEC, isolated=True),
    # Headers cross a stream import; a subscriber without headers gets the payload only.
    Case("security/edge_stream_import_headers", [
        login("x", "x", "x", headers=True), login("y", "y", "y", headers=True),
        login("y2", "y2", "y2"),
        send("y", "SUB hp.xs.h.> 1\r\nPING\r\n"), expect("y", "PONG"),
        send("y2", "SUB hp.xs.h.> 1\r\nPING\r\n"), expect("y2", "PONG"),
        send("x", hpub("xs.h.a", "NATS/1.0\r\nK: v\r\n\r\n", "body", reply="xs.h.reply")),
        expect("y", hmsg("hp.xs.h.a", 1, "NATS/1.0\r\nK: v\r\n\r\n", "body", reply="xs.h.reply")),
        expect("y2", msg("hp.xs.h.a", 1, "body", reply="xs.h.reply")),
    ], config=EDGE, tags=SEC),
    # Headers cross a service import both ways: the request keeps its headers (followed by
    # Nats-Request-Info), the response's headers reach a headers-capable requester as they
    # are, and a requester without headers gets the response's payload only.
    Case("security/edge_service_import_headers_both_ways", [
        login("x", "x", "x", headers=True), login("y", "y", "y", headers=True),
        login("y2", "y2", "y2"),
        send("x", "SUB xq.echo 1\r\nPING\r\n"), expect("x", "PONG"),
        send("y", "SUB inbox.eh.y 1\r\nPING\r\n"), expect("y", "PONG"),
        send("y", hpub("xq.echo", "NATS/1.0\r\nQ: 1\r\n\r\n", "req", reply="inbox.eh.y")),
        expect("x", request_from_y("xq.echo", "req", headers="Q: 1\r\n")),
        send("x", hpub("${rep}", "NATS/1.0\r\nR: 2\r\n\r\n", "resp")),
        expect("y", hmsg("inbox.eh.y", 1, "NATS/1.0\r\nR: 2\r\n\r\n", "resp")),
        send("y2", "SUB inbox.eh.y2 1\r\n" + pub("xq.echo", "req2", reply="inbox.eh.y2")),
        expect("x", request_from_y("xq.echo", "req2", rep="rep2")),
        send("x", hpub("${rep2}", "NATS/1.0\r\nR: 3\r\n\r\n", "resp2")),
        expect("y2", msg("inbox.eh.y2", 1, "resp2")),
    ], config=EDGE, tags=SEC),
    # allow_responses works for requests that arrive through a service import: the
    # responder may answer the "_R_." reply subject it was given once, without publish
    # rights to it; its other publish rights are unchanged.
    Case("security/edge_allow_responses_via_service_import", [
        login("xr", "xr", "xr"), login("y", "y", "y"),
        send("xr", "SUB xq.ar 1\r\nPING\r\n"), expect("xr", "PONG"),
        send("y", "SUB inbox.ar 1\r\nPING\r\n"), expect("y", "PONG"),
        send("y", pub("xq.ar", "q", reply="inbox.ar")),
        expect("xr", capture(msg("xq.ar", 1, "q", reply="${rep}"))),
        send("xr", pub("xq.ar.no", "x") + pub("${rep}", "ok") + "PING\r\n"),
        expect("xr", pub_denied("xq.ar.no"), "PONG"),
        expect("y", msg("inbox.ar", 1, "ok")),
    ], config=EDGE, tags=SEC),
    # Subscribe permissions of an account user apply to imported subjects too: the
    # import's subject outside the allow list is refused, and a denied subject is filtered
    # out of what a wildcard subscription receives through the import.
    Case("security/edge_account_user_sub_permissions_and_imports", [
        login("x", "x", "x"), login("yl", "yl", "yl"),
        send("yl", "SUB xs.pl.a 1\r\nSUB yl.xs.pl.secret 2\r\nSUB > 3\r\nSUB yl.> 4\r\nPING\r\n"),
        expect("yl", sub_denied("xs.pl.a"), sub_denied("yl.xs.pl.secret"), sub_denied(">"), "PONG"),
        send("x", pub("xs.pl.secret", "no") + pub("xs.pl.a", "yes")),
        expect("yl", msg("yl.xs.pl.a", 4, "yes")),
    ], config=EDGE, tags=SEC),
    # response_type: chunked: several replies pass; an empty one is delivered and ends the
    # response (client.go processServiceImport: len(msg) == LEN_CR_LF); later ones are
    # dropped. A reply with headers and an empty body is not empty and does not end it.
    Case("security/edge_service_chunked_empty_reply_ends", [
        login("x", "x", "x", headers=True), login("y", "y", "y", headers=True),
        send("x", "SUB xc.c 1\r\nPING\r\n"), expect("x", "PONG"),
        send("y", "SUB inbox.ch 1\r\nPING\r\n"), expect("y", "PONG"),
        send("y", pub("xc.c", "q1", reply="inbox.ch")),
        expect("x", request_from_y("xc.c", "q1")),
        send("x", pub("${rep}", "c1") + hpub("${rep}", "NATS/1.0\r\nE: 1\r\n\r\n")
             + pub("${rep}", "c2") + pub("${rep}", "") + pub("${rep}", "after end")
             + "PING\r\n"),
        expect("x", "PONG"),
        expect("y", msg("inbox.ch", 1, "c1"), hmsg("inbox.ch", 1, "NATS/1.0\r\nE: 1\r\n\r\n"),
               msg("inbox.ch", 1, "c2"), msg("inbox.ch", 1, "")),
        send("y", pub("xc.c", "q2", reply="inbox.ch")),
        expect("x", request_from_y("xc.c", "q2", rep="rep2")),
        send("x", pub("${rep2}", "second")),
        expect("y", msg("inbox.ch", 1, "second")),
    ], config=EDGE, tags=SEC),
    # response_type: stream ends the same way on an empty reply; headers with an empty
    # body do not end it.
    Case("security/edge_service_stream_empty_reply_ends", [
        login("x", "x", "x", headers=True), login("y", "y", "y", headers=True),
        send("x", "SUB xm.m 1\r\nPING\r\n"), expect("x", "PONG"),
        send("y", "SUB inbox.sm 1\r\nPING\r\n"), expect("y", "PONG"),
        send("y", pub("xm.m", "q1", reply="inbox.sm")),
        expect("x", request_from_y("xm.m", "q1")),
        send("x", pub("${rep}", "s1") + hpub("${rep}", "NATS/1.0\r\nE: 1\r\n\r\n")
             + pub("${rep}", "s2") + pub("${rep}", "") + pub("${rep}", "after end")
             + "PING\r\n"),
        expect("x", "PONG"),
        expect("y", msg("inbox.sm", 1, "s1"), hmsg("inbox.sm", 1, "NATS/1.0\r\nE: 1\r\n\r\n"),
               msg("inbox.sm", 1, "s2"), msg("inbox.sm", 1, "")),
        send("y", pub("xm.m", "q2", reply="inbox.sm")),
        expect("x", request_from_y("xm.m", "q2", rep="rep2")),
        send("x", pub("${rep2}", "second")),
        expect("y", msg("inbox.sm", 1, "second")),
    ], config=EDGE, tags=SEC),
    # A reply that reaches no one ends even a stream response: nats-server removes the
    # response mapping when a reply is not delivered (client.go processServiceImport,
    # shouldRemove = !didDeliver || ...), so a later reply is dropped even once the
    # requester subscribes to its inbox.
    Case("security/edge_service_stream_undelivered_reply_ends", [
        login("x", "x", "x"), login("y", "y", "y"),
        send("x", "SUB xm.u 1\r\nPING\r\n"), expect("x", "PONG"),
        send("y", pub("xm.u", "q1", reply="inbox.ud")),
        expect("x", capture(msg("xm.u", 1, "q1", reply="${rep}"))),
        send("x", pub("${rep}", "nobody listens") + "PING\r\n"), expect("x", "PONG"),
        send("y", "SUB inbox.ud 1\r\nPING\r\n"), expect("y", "PONG"),
        send("x", pub("${rep}", "too late") + "PING\r\n"), expect("x", "PONG"),
        send("y", pub("xm.u", "q2", reply="inbox.ud")),
        expect("x", capture(msg("xm.u", 1, "q2", reply="${rep2}"))),
        send("x", pub("${rep2}", "second")),
        expect("y", msg("inbox.ud", 1, "second")),
    ], config=EDGE, tags=SEC),
    # A request that arrives through a service import is not passed on to another
    # account's stream import of the same subject (client.go processMsgResults skips
    # shadow subscriptions for pmrMsgImportedFromService); X's own publish is.
    Case("security/edge_service_request_not_reexported_as_stream", [
        login("x", "x", "x"), login("y", "y", "y"), login("z", "z", "z"),
        send("x", "SUB xq.rx 1\r\nPING\r\n"), expect("x", "PONG"),
        send("z", "SUB z.xq.rx 1\r\nSUB z.xq.rx.sentinel 2\r\nPING\r\n"), expect("z", "PONG"),
        send("y", pub("xq.rx", "request", reply="inbox.rx")),
        expect("x", capture(msg("xq.rx", 1, "request", reply="${rep}"))),
        send("x", pub("xq.rx", "direct") + pub("xq.rx.sentinel", "s")),
        expect("x", msg("xq.rx", 1, "direct")),
        expect("z", msg("z.xq.rx", 1, "direct"), msg("z.xq.rx.sentinel", 2, "s")),
    ], config=EDGE, tags=SEC),
    # No responders inside an account: a request on a subject nobody in Y subscribes to and
    # that no service import covers gets the 503 status, also when the subject is one
    # that a stream import delivers into Y.
    Case("security/edge_no_responders_in_account", [
        login("y", "y", "y", headers=True, no_responders=True, protocol=1),
        send("y", "SUB inbox.nr.y 1\r\n" + pub("yq.none", "anyone?", reply="inbox.nr.y")
             + pub("xs.q.nr", "anyone?", reply="inbox.nr.y") + "PING\r\n"),
        expect("y", "HMSG inbox.nr.y 1 16 16\r\nNATS/1.0 503\r\n\r\n",
               "HMSG inbox.nr.y 1 16 16\r\nNATS/1.0 503\r\n\r\n", "PONG"),
    ], config=EDGE, tags=SEC),
]

# Verbose and pedantic clients with permission violations (PERMS config).
PROTO_PERM_CASES = [
    # A pipeline mixing allowed and denied SUB and PUB: each op gets exactly one answer,
    # +OK or -ERR, in order; UNSUB of a denied (never created) sid still gets +OK.
    Case("security/perm_verbose_pipeline_mixed", [
        login("b", "bare", "b", verbose=True),
        send("b", "SUB pm.bare.> 1\r\n" + pub("pm.bare.v", "no") + "SUB pm.other 2\r\n"
             + pub("pm.bare.a", "ok") + "SUB pm.other q 3\r\n" + pub("pm.other", "no")
             + "UNSUB 2\r\n" + pub("pm.bare.y.x", "ok2") + "UNSUB 1\r\n" + pub("pm.bare.a", "gone")
             + "PING\r\n"),
        expect("b", "+OK", pub_denied("pm.bare.v"), sub_denied("pm.other"), "+OK",
               msg("pm.bare.a", 1, "ok"), sub_denied("pm.other", "q"), pub_denied("pm.other"),
               "+OK", "+OK", msg("pm.bare.y.x", 1, "ok2"), "+OK", "+OK", "PONG"),
    ], config=PERMS, tags=SEC),
    # Pedantic: a wildcard publish subject gets "Invalid Publish Subject" when its control
    # line is read, and the message is still checked against the permissions afterwards
    # (client.go processPub, processInboundClientMsg): denied, a second -ERR; allowed
    # (the allow entry "pm.bare.*.x" matches the "*" and ">" tokens), it is delivered.
    Case("security/perm_pedantic_invalid_subject_then_permissions", [
        login("b", "bare", "b", pedantic=True),
        send("b", "SUB pm.bare.> 1\r\n" + pub("pm.bare.*", "1") + pub("pm.bare.>.x", "2")
             + pub("pm.*", "3") + "PING\r\n"),
        expect("b", "-ERR 'Invalid Publish Subject'", pub_denied("pm.bare.*"),
               "-ERR 'Invalid Publish Subject'", msg("pm.bare.>.x", 1, "2"),
               "-ERR 'Invalid Publish Subject'", pub_denied("pm.*"), "PONG"),
    ], config=PERMS, tags=SEC),
    # Verbose and pedantic together: no +OK after the errors for a denied invalid subject.
    Case("security/perm_pedantic_verbose_invalid_subject_denied", [
        login("b", "bare", "b", pedantic=True, verbose=True),
        send("b", pub("pm.bare.*", "1") + pub("pm.bare.a", "2") + "PING\r\n"),
        expect("b", "-ERR 'Invalid Publish Subject'", pub_denied("pm.bare.*"), "+OK", "PONG"),
    ], config=PERMS, tags=SEC),
]

CASES = (NKEY_CASES + PERM_CASES + DEFAULT_PERM_CASES + RESERVED_CASES + ACCOUNT_CASES
         + NO_AUTH_CASES + CONFIG_CASES + EDGE_CASES + PROTO_PERM_CASES)
