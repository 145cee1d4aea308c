#!/usr/bin/env python3
"""Times Django's file session backend in process, for bench/peers_bench_test.go.

The peer benchmark compares stores on the same work. Through the worker
protocol every store also pays for JSON over a pipe; this helper takes that
out for Django, as go-inproc takes it out for the reference: it imports
Django's file backend itself (not adapters/django, which wraps os calls for
the scheduling hook) and runs blocks of the benchmark's workload on command,
timing each block on its own clock.

Protocol on stdin/stdout, one line each way:
  open DIR WORKLOAD PRESEED VALUE  ->  ok   (VALUE: the "data" value, no spaces)
  run N                           ->  ok NANOSECONDS   (runs the next N ops)
  (end of input)                  ->  exit 0
A failure is answered with "error MESSAGE" and the helper exits 1.

The work per operation mirrors a request, as the Go side does:
  load    SessionStore(key); items()
  save    SessionStore(key); clear(); update(values); set_expiry(3600); save()
  touch   SessionStore(key); set_expiry(3600); save()  (loads, then writes)
  create  SessionStore(); update(values); set_expiry(3600); create()
  delete  SessionStore(key).delete()
  exists  SessionStore().exists(key)
The mix is the Go benchmark's mixSeq, in the same order.
"""

import sys
import time

MIX = ["create", "load", "save", "load", "touch", "exists", "save",
       "load", "delete", "save", "create", "load", "exists", "save",
       "touch", "load", "save", "create", "delete", "load", "save"]


def main():
    from django.conf import settings
    store_cls = None
    keys = []
    values = {}
    workload = None
    done = 0
    for line in sys.stdin:
        words = line.split()
        try:
            if words[0] == "open":
                directory, workload, preseed, value = words[1], words[2], int(words[3]), words[4]
                settings.configure(
                    SECRET_KEY="sessioncheck-bench",
                    SESSION_ENGINE="django.contrib.sessions.backends.file",
                    SESSION_FILE_PATH=directory,
                )
                import django.contrib.sessions.backends.file as fb
                store_cls = fb.SessionStore
                values = {"data": value}
                for _ in range(preseed):
                    keys.append(create(store_cls, values))
                print("ok", flush=True)
            elif words[0] == "run":
                n = int(words[1])
                t0 = time.perf_counter_ns()
                for _ in range(n):
                    op = MIX[done % len(MIX)] if workload == "mix" else workload
                    step(store_cls, op, done, keys, values, workload)
                    done += 1
                print("ok", time.perf_counter_ns() - t0, flush=True)
            else:
                raise ValueError("unknown command %r" % words[0])
        except Exception as exc:  # report, then stop: the Go side fails the benchmark
            print("error %s: %s" % (type(exc).__name__, exc), flush=True)
            return 1
    return 0


def create(store_cls, values):
    s = store_cls()
    s.update(values)
    s.set_expiry(3600)
    s.create()
    return s.session_key


def step(store_cls, op, i, keys, values, workload):
    if op == "create":
        k = create(store_cls, values)
        if workload == "mix":
            keys.append(k)
        return
    j = i % len(keys)
    if op == "delete" and workload == "delete":
        j = len(keys) - 1
    key = keys[j]
    if op == "load":
        s = store_cls(key)
        if s.get("data") != values["data"]:
            raise RuntimeError("load of %s returned other values than were saved" % key)
    elif op == "save":
        s = store_cls(key)
        s.clear()
        s.update(values)
        s.set_expiry(3600)
        s.save()
    elif op == "touch":
        s = store_cls(key)
        s.set_expiry(3600)
        s.save()
    elif op == "exists":
        if not store_cls().exists(key):
            raise RuntimeError("exists: live session %s is not there" % key)
    elif op == "delete":
        store_cls(key).delete()
        keys[j] = keys[-1]
        keys.pop()
    else:
        raise ValueError("unknown op %r" % op)


if __name__ == "__main__":
    sys.exit(main())
