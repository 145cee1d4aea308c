"""The pre-#6984 order of Django's file backend, re-enacted on Django 3.2.

Written from the description in Django ticket #6984 ("Session Data Race
Condition Leading to Dropped Sessions"): save() opened the session file with
'wb' -- truncating it -- and only then touched self._session. For a session
whose data was not yet cached that ran load(), which read the file save()
had just emptied; decoding the empty string raised SuspiciousOperation, and
load() answered with a brand-new session key and an empty session. With
SESSION_SAVE_EVERY_REQUEST the cookie changed on every request and the
user's data was gone.

Two methods depart from Django 3.2, each by one step:

- save(): the file is opened with O_TRUNC *before* the data is materialised
  and then written in place (3.2 materialises first, then writes a
  temporary file and renames it). Create and update keep 3.2's flags
  (O_CREAT|O_EXCL, or UpdateError on a missing file), so that the order is
  the only difference a check can see.
- load(): an empty file is undecodable, as it was in 2007, and so gets a new
  key (3.2 tolerates an empty file as the "placeholder" of a create, which
  came with the #8616 fix).

Everything else (keys, expiry, encoding, clear_expired) is Django 3.2's.
"""

from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.core.exceptions import SuspiciousOperation


def make_store(fb, hooked_os):
    """Return the 2007-order SessionStore over Django's file backend module
    fb; file-system calls go through hooked_os (the scheduling hook)."""

    class SessionStore(fb.SessionStore):
        # The class keeps the name SessionStore: Django salts its signatures
        # with the class's qualified name, so the two modes read each
        # other's files.

        def save(self, must_create=False):
            if self.session_key is None:
                return self.create()
            path = self._key_to_file()
            # open(path, "wb"): the truncation comes first. (2007's save was
            # an upsert; the create/update flags are kept as in 3.2 so that
            # the order is the only difference a check can see.)
            flags = hooked_os.O_WRONLY | hooked_os.O_TRUNC
            if must_create:
                flags |= hooked_os.O_CREAT | hooked_os.O_EXCL
            try:
                fd = hooked_os.open(path, flags, 0o600)
            except FileExistsError:
                raise CreateError
            except FileNotFoundError:
                raise UpdateError
            try:
                # The #6984 bug: the data is materialised only now. For an
                # uncached session this loads the file truncated above.
                data = self._get_session(no_load=must_create)
                hooked_os.write(fd, self.encode(data).encode())
            finally:
                hooked_os.close(fd)

        def load(self):
            try:
                with fb.open(self._key_to_file(), encoding="ascii") as f:
                    content = f.read()
            except (OSError, SuspiciousOperation):
                self._session_key = None
                return {}
            if not content:
                # 2007's decode("") raised SuspiciousOperation ("User
                # tampered with session cookie."); load() then issued a new
                # key with an empty session.
                self.create()
                return {}
            data = self.decode(content)
            if self.get_expiry_age(expiry=self._expiry_date(data)) <= 0:
                self.delete()
                self.create()
                return {}
            return data

    return SessionStore
