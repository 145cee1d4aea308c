#!/usr/bin/env python3
"""sessioncheck worker for Django's file session backend.

Speaks the sessioncheck worker protocol (docs/PROTOCOL.md) on stdin/stdout
and maps every store operation onto django.contrib.sessions.backends.file
.SessionStore the way a request would use it (see adapters/django/README.md
for the mapping and what it cannot express).

Modes:
  --mode=shipped  Django's file backend as installed (default).
  --mode=2007     the pre-#6984 order re-enacted: save() truncates the file
                  and only then lazily loads the session it is about to write.

It implements the version 2 scheduling hook (feature "schedule"): opened with
"schedule": true, it announces every file-system call Django's file backend
is about to make and waits for the driver's go-ahead. The hook wraps the
os/shutil/tempfile/open names *inside Django's file backend module only*, so
the worker's own pipe I/O is never announced.

Run with the Python that has Django (Debian: /usr/bin/python3 with
python3-django). Nothing here is copied from Django; it only calls it.
"""

import argparse
import builtins
import datetime
import errno
import json
import os
import random
import shutil
import sys
import tempfile

PROTOCOL = "sessioncheck-worker"
MAX_VERSION = 2
ALL_OPS = ["create", "load", "save", "touch", "delete", "exists", "cycle", "clear-expired"]
# Django stores a custom expiry in the session dict under this name; a client
# value of that name would be indistinguishable from it.
EXPIRY_FIELD = "_session_expiry"
# The protocol's key alphabet (docs/PROTOCOL.md): ^[a-z0-9]{8,64}$.
KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


class ProtocolError(Exception):
    """The request cannot be handled at all: answered with an error response."""


class Channel:
    """JSON lines on stdin/stdout. Responses and events are flushed at once."""

    def __init__(self, inp, out):
        self.inp = inp
        self.out = out
        self.lineno = 0

    def read_line(self):
        line = self.inp.readline()
        if not line:
            return None
        self.lineno += 1
        return line

    def send(self, obj):
        self.out.write(json.dumps(obj, separators=(",", ":")) + "\n")
        self.out.flush()


class Hook:
    """The scheduling hook: announce a file-system call, wait for "go".

    Only active while a store operation is served on a store opened with
    "schedule": true. A go-ahead may carry "fail": "<ERRNO NAME>", in which
    case the call is not made and fails with that errno.
    """

    def __init__(self, channel):
        self.channel = channel
        self.enabled = False
        self.request_id = None
        self.seq = 0
        self.dir = None
        self.unlinked = None  # a list while clear-expired records removals

    def rel(self, path):
        path = os.fspath(path)
        if self.dir and path.startswith(self.dir + os.sep):
            return path[len(self.dir) + 1:]
        return path

    def announce(self, call, path=None, path2=None, flags=None):
        if not self.enabled or self.request_id is None:
            return
        self.seq += 1
        event = {"event": "fs", "id": self.request_id, "seq": self.seq, "call": call}
        if path is not None:
            event["path"] = self.rel(path)
        if path2 is not None:
            event["path2"] = self.rel(path2)
        if flags:
            event["flags"] = flags
        self.channel.send(event)
        while True:
            line = self.channel.read_line()
            if line is None:
                # The driver is gone (or killed us mid-schedule): nothing to do.
                sys.exit(0)
            try:
                msg = json.loads(line)
            except ValueError as exc:
                self.channel.send({"id": None, "error": "line %d: %s" % (self.channel.lineno, exc)})
                continue
            if isinstance(msg, dict) and msg.get("op") == "go" and msg.get("seq") == self.seq:
                break
            rid = msg.get("id") if isinstance(msg, dict) and isinstance(msg.get("id"), int) else None
            self.channel.send({"id": rid, "error": "waiting for the go-ahead of event %d (%s %s); got %s"
                               % (self.seq, call, event.get("path", ""), line.strip()[:200])})
        fail = msg.get("fail")
        if fail:
            code = getattr(errno, str(fail), None)
            if not isinstance(code, int):
                code = errno.EIO
            raise OSError(code, "%s injected by the driver" % fail, os.fspath(path) if path is not None else None)


_FLAG_NAMES = ["O_WRONLY", "O_RDWR", "O_CREAT", "O_EXCL", "O_TRUNC", "O_APPEND"]


def flag_names(flags):
    names = [n for n in _FLAG_NAMES if flags & getattr(os, n)]
    if not flags & (os.O_WRONLY | os.O_RDWR):
        names.insert(0, "O_RDONLY")
    return names


class HookedPath:
    """os.path as Django's file backend sees it: exists() is a stat(2)."""

    def __init__(self, hook):
        self._hook = hook

    def exists(self, path):
        self._hook.announce("stat", path)
        return os.path.exists(path)

    def __getattr__(self, name):
        # isdir (the storage-path check, cached per open), join, split: no
        # call another process could interleave with meaningfully.
        return getattr(os.path, name)


class HookedOS:
    """The os module as Django's file backend sees it."""

    def __init__(self, hook):
        self._hook = hook
        self._fds = {}
        self.path = HookedPath(hook)

    def open(self, path, flags, mode=0o777, *, dir_fd=None):
        self._hook.announce("open", path, flags=flag_names(flags))
        fd = os.open(path, flags, mode, dir_fd=dir_fd)
        self._fds[fd] = os.fspath(path)
        return fd

    def write(self, fd, data):
        self._hook.announce("write", self._fds.get(fd, "fd%d" % fd))
        return os.write(fd, data)

    def close(self, fd):
        # Not announced: closing changes nothing another process can see
        # (Django never fsyncs and holds no locks).
        self._fds.pop(fd, None)
        return os.close(fd)

    def unlink(self, path, *, dir_fd=None):
        self._hook.announce("unlink", path)
        os.unlink(path, dir_fd=dir_fd)
        if self._hook.unlinked is not None:
            self._hook.unlinked.append(os.fspath(path))

    def stat(self, path, *, dir_fd=None, follow_symlinks=True):
        self._hook.announce("stat", path)
        return os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)

    def listdir(self, path="."):
        self._hook.announce("listdir", path)
        return os.listdir(path)

    def __getattr__(self, name):
        return getattr(os, name)


class HookedTempfile:
    """tempfile as Django's file backend sees it: mkstemp is a scheduling point."""

    def __init__(self, hook, hooked_os):
        self._hook = hook
        self._os = hooked_os

    def mkstemp(self, suffix=None, prefix=None, dir=None, text=False):
        self._hook.announce("mkstemp", os.path.join(dir or "", (prefix or "") + "XXXXXXXX"))
        fd, name = tempfile.mkstemp(suffix=suffix, prefix=prefix, dir=dir, text=text)
        self._os._fds[fd] = name
        return fd, name

    def __getattr__(self, name):
        return getattr(tempfile, name)


class HookedShutil:
    """shutil as Django's file backend sees it: move is rename(2) on POSIX.

    shutil.move first stats the destination (is it a directory?) and then
    renames; the stat observes nothing the rename does not, so the two are
    announced as one "rename".
    """

    def __init__(self, hook):
        self._hook = hook

    def move(self, src, dst, *args, **kwargs):
        self._hook.announce("rename", src, dst)
        return shutil.move(src, dst, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(shutil, name)


class HookedReader:
    """A text file opened by load(): read() is a scheduling point."""

    def __init__(self, hook, f, path):
        self._hook = hook
        self._f = f
        self._path = path

    def read(self, *args):
        self._hook.announce("read", self._path)
        return self._f.read(*args)

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()
        return False


def make_hooked_open(hook):
    def hooked_open(path, mode="r", *args, **kwargs):
        flags = ["O_RDONLY"] if mode.startswith("r") and "+" not in mode else [mode]
        hook.announce("open", path, flags=flags)
        return HookedReader(hook, builtins.open(path, mode, *args, **kwargs), path)
    return hooked_open


class State:
    """What one open store holds: the fixed clock and the key pool."""

    def __init__(self):
        self.now = None
        self.pool = None
        self.draws = 0


STATE = State()


def parse_time(value, field):
    if not isinstance(value, str):
        raise ProtocolError("%s: want an RFC 3339 string, got %r" % (field, value))
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        t = datetime.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ProtocolError("%s: %s" % (field, exc))
    if t.tzinfo is None:
        raise ProtocolError("%s: %r has no time zone" % (field, value))
    return t.astimezone(datetime.timezone.utc)


def format_time(t):
    t = t.astimezone(datetime.timezone.utc)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += (".%06d" % t.microsecond).rstrip("0")
    return text + "Z"


def parse_values(value):
    if value is None:
        # Go drivers leave an empty object out (omitempty): no values.
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ProtocolError("values: want an object of string to string, got %r" % (value,))
    if EXPIRY_FIELD in value:
        raise ProtocolError("values: %r is reserved by Django for the expiry" % EXPIRY_FIELD)
    return dict(value)


class Worker:
    """Serves the protocol for one SessionStore class."""

    def __init__(self, channel, hook, store_cls, name, ops, django_mods):
        self.channel = channel
        self.hook = hook
        self.store_cls = store_cls
        self.name = name
        self.ops = ops
        self.said_hello = False
        self.opened = False
        self.m = django_mods

    # -- requests -------------------------------------------------------

    def serve(self):
        while True:
            line = self.channel.read_line()
            if line is None:
                return
            if not line.strip():
                continue
            self.channel.send(self.handle_line(line))

    def handle_line(self, line):
        try:
            msg = json.loads(line)
        except ValueError as exc:
            return {"id": None, "error": "line %d: %s" % (self.channel.lineno, exc)}
        if not isinstance(msg, dict):
            return {"id": None, "error": "line %d: want a JSON object" % self.channel.lineno}
        rid = msg.get("id")
        if not isinstance(rid, int) or isinstance(rid, bool):
            if msg.get("op") == "go":
                return {"id": None, "error": "go-ahead for seq %r, but no file-system call is waiting" % msg.get("seq")}
            return {"id": None, "error": "line %d: missing or non-integer id" % self.channel.lineno}
        op = msg.get("op")
        try:
            if op == "hello":
                return self.hello(rid, msg)
            if not self.said_hello:
                raise ProtocolError("send hello first")
            if op == "open":
                return self.open(rid, msg)
            if op not in ALL_OPS:
                raise ProtocolError("unknown op %r" % (op,))
            if op not in self.ops:
                raise ProtocolError("op %r is not supported by this worker" % op)
            if not self.opened:
                raise ProtocolError("no store is open: send open first")
            return self.store_op(rid, op, msg)
        except ProtocolError as exc:
            return {"id": rid, "error": str(exc)}

    def hello(self, rid, msg):
        version = msg.get("version")
        if not isinstance(version, int) or version < 1:
            raise ProtocolError("hello: want version >= 1, got %r" % (version,))
        self.said_hello = True
        return {"id": rid, "outcome": "ok", "protocol": PROTOCOL, "version": min(version, MAX_VERSION),
                "name": self.name, "ops": self.ops, "features": ["key-pool", "schedule"],
                # Declarations for the observable profile (PROTOCOL.md 1.1):
                # get_expiry_age drops fractions of a second, exists() is a stat.
                "granularity": "1s", "exists-semantics": "stat"}

    def open(self, rid, msg):
        d = msg.get("dir")
        if not isinstance(d, str) or not d:
            raise ProtocolError("open: missing dir")
        if not os.path.isdir(d):
            raise ProtocolError("open: %r is not a directory" % d)
        now = parse_time(msg.get("now"), "now")
        secret = msg.get("secret", "sessioncheck")
        if not isinstance(secret, str):
            raise ProtocolError("open: secret must be a string")
        keys = msg.get("keys")
        if keys is not None and (not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys)):
            raise ProtocolError("open: keys must be a non-empty list of strings")
        schedule = msg.get("schedule", False)
        if not isinstance(schedule, bool):
            raise ProtocolError("open: schedule must be a boolean")
        settings = self.m["settings"]
        d = os.path.abspath(d)
        settings.SESSION_FILE_PATH = d
        settings.SECRET_KEY = secret or "sessioncheck"
        # The file backend caches the validated directory on the class.
        for cls in type(self.store_cls).mro(self.store_cls):
            if "_storage_path" in vars(cls):
                delattr(cls, "_storage_path")
        STATE.now = now
        STATE.pool = list(keys) if keys else None
        self.hook.enabled = False
        self.store_cls._get_storage_path()
        self.hook.dir = d
        self.hook.enabled = schedule
        self.opened = True
        return {"id": rid, "outcome": "ok"}

    # -- store operations --------------------------------------------------

    def store_op(self, rid, op, msg):
        STATE.draws = 0
        self.hook.request_id = rid
        try:
            fields = getattr(self, "op_" + op.replace("-", "_"))(msg)
        except ProtocolError:
            raise
        except self.m["UpdateError"]:
            fields = {"outcome": "not-found", "message": "UpdateError: the session file is gone"}
        except self.m["SuspiciousOperation"] as exc:
            fields = {"outcome": "invalid-key", "message": "%s: %s" % (type(exc).__name__, exc)}
        except Exception as exc:  # any other error of the backend: the store failed
            fields = {"outcome": "failed", "message": "%s: %s" % (type(exc).__name__, exc)}
        finally:
            self.hook.request_id = None
            self.hook.unlinked = None
        return {"id": rid, **fields}

    def key_of(self, msg):
        key = msg.get("key", "")  # Go drivers leave an empty key out
        if not isinstance(key, str):
            raise ProtocolError("%s: key must be a string, got %r" % (msg.get("op"), key))
        return key

    def invalid(self, key):
        """The protocol's key rule, ^[a-z0-9]{8,64}$, checked before Django
        sees the key. Django's own rules are at least 8 characters
        (SessionBase._validate_session_key) from VALID_KEY_CHARS
        (file._key_to_file), with no upper bound; Django answers a key it
        refuses with an empty session (or, on save, a new key), never an
        error, so the adapter answers invalid-key as the protocol asks."""
        chars = self.m["VALID_KEY_CHARS"]
        django_refuses = len(key) < 8 or not set(key) <= set(chars)
        if django_refuses or len(key) > 64 or not set(key) <= set(KEY_CHARS):
            why = "Django refuses it too" if django_refuses else "Django itself would accept it"
            return {"outcome": "invalid-key", "message": "session key %r is not ^[a-z0-9]{8,64}$ (%s)" % (key, why)}
        return None

    def record_of(self, s, data):
        values = {k: v if isinstance(v, str) else repr(v) for k, v in data.items() if k != EXPIRY_FIELD}
        expiry = data.get(EXPIRY_FIELD)
        if not isinstance(expiry, datetime.datetime):
            # No custom expiry (an empty placeholder file, or a session
            # written by load()'s re-keying): Django's own answer.
            expiry = s.get_expiry_date(expiry=expiry)
        return {"values": values, "expiry": format_time(expiry)}

    def rekeyed(self, s, key, what):
        new = s.session_key
        how = "dropped the session key" if new is None else "re-keyed the session to %s" % new
        return {"outcome": "not-found", "message": "%s: Django %s" % (what, how)}

    def op_create(self, msg):
        values = parse_values(msg.get("values"))
        expiry = parse_time(msg.get("expiry"), "expiry")
        s = self.store_cls()
        s.update(values)
        s.set_expiry(expiry)
        s.save()  # no key yet: save() calls create()
        return {"outcome": "ok", "key": s.session_key}

    def op_load(self, msg):
        key = self.key_of(msg)
        bad = self.invalid(key)
        if bad:
            return bad
        s = self.store_cls(key)
        data = dict(s.items())
        if s.session_key != key:
            return self.rekeyed(s, key, "load")
        return {"outcome": "ok", "record": self.record_of(s, data)}

    def op_save(self, msg):
        key = self.key_of(msg)
        values = parse_values(msg.get("values"))
        expiry = parse_time(msg.get("expiry"), "expiry")
        bad = self.invalid(key)
        if bad:
            return bad
        s = self.store_cls(key)
        s.clear()  # replaces the cache without loading
        s.update(values)
        s.set_expiry(expiry)
        s.save()  # UpdateError when the file is gone: not-found
        if s.session_key != key:
            return self.rekeyed(s, key, "save")
        return {"outcome": "ok"}

    def op_touch(self, msg):
        key = self.key_of(msg)
        expiry = parse_time(msg.get("expiry"), "expiry")
        bad = self.invalid(key)
        if bad:
            return bad
        s = self.store_cls(key)
        # A request that never touches its session and is saved anyway
        # (SESSION_SAVE_EVERY_REQUEST): save() itself materialises the data.
        # The protocol's new expiry is applied to the data at that moment,
        # so the handle is never accessed before save().
        materialise = s._get_session

        def with_expiry(no_load=False):
            data = materialise(no_load=no_load)
            if not no_load:
                data[EXPIRY_FIELD] = expiry
            return data

        s._get_session = with_expiry
        s.save()
        if s.session_key != key:
            return self.rekeyed(s, key, "touch")
        return {"outcome": "ok"}

    def op_delete(self, msg):
        key = self.key_of(msg)
        bad = self.invalid(key)
        if bad:
            return bad
        self.store_cls(key).flush()  # logout: clear, delete, forget the key
        return {"outcome": "ok"}

    def op_exists(self, msg):
        key = self.key_of(msg)
        bad = self.invalid(key)
        if bad:
            return bad
        return {"outcome": "ok", "exists": bool(self.store_cls().exists(key))}

    def op_cycle(self, msg):
        key = self.key_of(msg)
        bad = self.invalid(key)
        if bad:
            return bad
        s = self.store_cls(key)
        s._get_session()  # cycle_key()'s own first step: load the data
        if s.session_key != key:
            # cycle_key() would now create a fresh, empty session (a login
            # without a session); the session asked for is not there.
            return self.rekeyed(s, key, "cycle")
        s.cycle_key()
        return {"outcome": "ok", "key": s.session_key}

    def op_clear_expired(self, msg):
        settings = self.m["settings"]
        prefix = os.path.join(settings.SESSION_FILE_PATH, settings.SESSION_COOKIE_NAME)
        self.hook.unlinked = []
        self.store_cls.clear_expired()
        removed = sorted({p[len(prefix):] for p in self.hook.unlinked if p.startswith(prefix)})
        return {"outcome": "ok", "removed": removed}


def install_django(hook, mode):
    """Configure Django minimally in-process and wrap its file backend."""
    from django.conf import settings
    settings.configure(
        SECRET_KEY="sessioncheck",
        SESSION_ENGINE="django.contrib.sessions.backends.file",
        SESSION_FILE_PATH=None,
        # The protocol's expiry is absolute. In Django 3.2 an absolute expiry
        # is set_expiry(datetime), and only the pickle serializer can store a
        # datetime (JSONSerializer raises TypeError in save()).
        SESSION_SERIALIZER="django.contrib.sessions.serializers.PickleSerializer",
        USE_TZ=True,
    )
    from django.utils import timezone
    import django.contrib.sessions.backends.base as sbase
    import django.contrib.sessions.backends.file as fb
    from django.core.exceptions import SuspiciousOperation

    # The store's clock is the protocol's fixed "now".
    timezone.now = lambda: STATE.now

    # The key pool: every fresh key base.SessionBase._get_new_session_key
    # draws comes from the pool. It retries while exists() is true, so a
    # pool that is used up would loop forever: stop and fail instead.
    real_random_string = sbase.get_random_string

    def pooled_random_string(length, allowed_chars=sbase.VALID_KEY_CHARS):
        if not STATE.pool:
            return real_random_string(length, allowed_chars)
        STATE.draws += 1
        if STATE.draws > 64 * len(STATE.pool) + 64:
            raise RuntimeError("key pool of %d keys used up: every key exists" % len(STATE.pool))
        return random.choice(STATE.pool)

    sbase.get_random_string = pooled_random_string

    hooked_os = HookedOS(hook)
    fb.os = hooked_os
    fb.shutil = HookedShutil(hook)
    fb.tempfile = HookedTempfile(hook, hooked_os)
    fb.open = make_hooked_open(hook)

    store_cls = fb.SessionStore
    if mode == "2007":
        import django_2007
        store_cls = django_2007.make_store(fb, hooked_os)
    return store_cls, {
        "settings": settings,
        "UpdateError": sbase.UpdateError,
        "SuspiciousOperation": SuspiciousOperation,
        "VALID_KEY_CHARS": sbase.VALID_KEY_CHARS,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=["shipped", "2007"], default="shipped",
                   help="shipped: Django as installed; 2007: the pre-#6984 truncate-then-load save()")
    p.add_argument("--ops", default=",".join(ALL_OPS),
                   help="comma list of the operations to declare (default: all)")
    args = p.parse_args(argv)
    ops = [o for o in args.ops.split(",") if o]
    unknown = [o for o in ops if o not in ALL_OPS]
    if unknown:
        p.error("unknown operations: %s" % ", ".join(unknown))
    for required in ("create", "load", "delete"):
        if required not in ops:
            p.error("--ops must include %s" % required)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    channel = Channel(sys.stdin, sys.stdout)
    hook = Hook(channel)
    try:
        import django
    except ImportError as exc:
        sys.stderr.write("django-worker: Django is not importable by %s: %s (Debian: apt-get install -y python3-django)\n"
                         % (sys.executable, exc))
        return 3
    store_cls, mods = install_django(hook, args.mode)
    name = "django-%s/file%s" % (".".join(map(str, django.VERSION[:2])), "-2007" if args.mode == "2007" else "")
    Worker(channel, hook, store_cls, name, ops, mods).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
