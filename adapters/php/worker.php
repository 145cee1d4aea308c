<?php
// sessioncheck worker for PHP's own session module (docs/PROTOCOL.md).
//
// Every store operation is what one PHP request does with its session:
// session_id($key); session_start(); read or assign $_SESSION; then
// session_write_close(), session_abort(), session_destroy() or
// session_regenerate_id(true). See adapters/php/README.md for the mapping.
//
//   php worker.php --handler=files            the files handler (flock per request)
//   php worker.php --handler=redis [--locking] phpredis (redis.session.locking_enabled=1)
//   --ops=a,b,...                              declare fewer operations
//
// Nothing here is copied from PHP or phpredis; it only calls them.

const PROTOCOL = 'sessioncheck-worker';
const KEY_RE = '/^[a-z0-9]{8,64}$/';
// PHP sessions have no per-session expiry (only garbage collection by file
// age against the real clock), so the protocol's absolute expiry is kept in
// the session itself under this name.
const EXPIRY_FIELD = '__sessioncheck_expiry';
const REDIS_ADDR = '127.0.0.1:6399';

class ProtocolError extends Exception {}

function send(array $msg): void {
    // JSON_FORCE_OBJECT would also turn lists into objects; only the maps
    // that must stay objects are cast where they are built.
    fwrite(STDOUT, json_encode($msg, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE) . "\n");
    fflush(STDOUT);
}

function parse_time($v, string $field): int {
    if (!is_string($v) || !preg_match('/^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?Z$/', $v, $m)) {
        throw new ProtocolError("$field: want an RFC 3339 UTC time ending in Z, got " . json_encode($v));
    }
    if (isset($m[7]) && $m[7] !== '' && trim(substr($m[7], 1), '0') !== '') {
        throw new ProtocolError("$field: PHP's session has whole seconds here; got the fraction in " . $v);
    }
    $t = gmmktime((int)$m[4], (int)$m[5], (int)$m[6], (int)$m[2], (int)$m[3], (int)$m[1]);
    if ($t === false) {
        throw new ProtocolError("$field: not a time: $v");
    }
    return $t;
}

function format_time(int $t): string {
    return gmdate('Y-m-d\TH:i:s\Z', $t);
}

function parse_values($v): array {
    if ($v === null) {
        return []; // Go drivers leave an empty object out
    }
    if (!is_object($v)) {
        throw new ProtocolError('values: want an object of string to string');
    }
    $out = [];
    foreach (get_object_vars($v) as $k => $s) {
        if (!is_string($s)) {
            throw new ProtocolError("values: value of " . json_encode((string)$k) . " is not a string");
        }
        if ((string)$k === EXPIRY_FIELD) {
            throw new ProtocolError('values: ' . EXPIRY_FIELD . ' is reserved by the adapter for the expiry');
        }
        $out[(string)$k] = $s;
    }
    return $out;
}

class Worker {
    private bool $hello = false;
    private bool $opened = false;
    private int $now = 0;
    private string $handler;
    private bool $locking;
    private array $ops;
    private string $name;

    function __construct(string $handler, bool $locking, array $ops) {
        $this->handler = $handler;
        $this->locking = $locking;
        $this->ops = $ops;
        $this->name = 'php-' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION . '/' . $handler;
        if ($handler === 'redis') {
            $this->name = 'php-' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION . '/phpredis-' . phpversion('redis') . ($locking ? '-locking' : '');
        }
        // A request without cookies, headers or garbage collection: the
        // driver carries the id, and GC (by file age on the real clock) is
        // not the protocol's clear-expired.
        $ini = [
            'session.use_cookies' => '0',
            'session.use_only_cookies' => '0',
            'session.use_trans_sid' => '0',
            'session.use_strict_mode' => '0',
            'session.cache_limiter' => '',
            'session.gc_probability' => '0',
            'session.gc_maxlifetime' => '86400',
            'session.serialize_handler' => 'php',
            'session.lazy_write' => '1',
            // Fresh ids from [0-9a-v]: inside the protocol's alphabet.
            'session.sid_length' => '32',
            'session.sid_bits_per_character' => '5',
            'session.save_handler' => $handler,
        ];
        if ($handler === 'redis') {
            // Everything else as phpredis ships it: a waiter polls the lock
            // lock_retries=10 times every lock_wait_time=2000 us, then reads
            // without it; the lock has no expiry (lock_expire=0 and
            // max_execution_time=0 on the command line).
            $ini['redis.session.locking_enabled'] = $locking ? '1' : '0';
        }
        foreach ($ini as $k => $v) {
            if (ini_set($k, $v) === false) {
                throw new RuntimeException("cannot set $k=$v");
            }
        }
    }

    function serve(): void {
        $lineno = 0;
        while (($line = fgets(STDIN)) !== false) {
            $lineno++;
            if (trim($line) === '') {
                continue;
            }
            send($this->handle($line, $lineno));
        }
    }

    function handle(string $line, int $lineno): array {
        $msg = json_decode($line);
        if (json_last_error() !== JSON_ERROR_NONE) {
            return ['id' => null, 'error' => "line $lineno: " . json_last_error_msg()];
        }
        if (!is_object($msg)) {
            return ['id' => null, 'error' => "line $lineno: want a JSON object"];
        }
        $id = $msg->id ?? null;
        if (!is_int($id)) {
            if (($msg->op ?? null) === 'go') {
                return ['id' => null, 'error' => 'go-ahead, but this worker has no scheduling hook'];
            }
            return ['id' => null, 'error' => "line $lineno: missing or non-integer id"];
        }
        $op = $msg->op ?? null;
        try {
            if ($op === 'hello') {
                return $this->hello($id, $msg);
            }
            if (!$this->hello) {
                throw new ProtocolError('send hello first');
            }
            if ($op === 'open') {
                return $this->open($id, $msg);
            }
            if (!in_array($op, ['create', 'load', 'save', 'touch', 'delete', 'exists', 'cycle', 'clear-expired'], true)) {
                throw new ProtocolError('unknown op ' . json_encode($op));
            }
            if (!in_array($op, $this->ops, true)) {
                throw new ProtocolError("op \"$op\" is not supported by this worker");
            }
            if (!$this->opened) {
                throw new ProtocolError('no store is open: send open first');
            }
            return ['id' => $id] + $this->storeOp($op, $msg);
        } catch (ProtocolError $e) {
            return ['id' => $id, 'error' => $e->getMessage()];
        }
    }

    function hello(int $id, object $msg): array {
        $v = $msg->version ?? null;
        if (!is_int($v) || $v < 1) {
            throw new ProtocolError('hello: want version >= 1, got ' . json_encode($v));
        }
        $this->hello = true;
        return ['id' => $id, 'outcome' => 'ok', 'protocol' => PROTOCOL, 'version' => 1,
            'name' => $this->name, 'ops' => $this->ops, 'features' => []];
    }

    function open(int $id, object $msg): array {
        $dir = $msg->dir ?? null;
        if (!is_string($dir) || $dir === '') {
            throw new ProtocolError('open: missing dir');
        }
        if (!is_dir($dir)) {
            throw new ProtocolError("open: $dir is not a directory");
        }
        $this->now = parse_time($msg->now ?? null, 'now');
        if (session_status() === PHP_SESSION_ACTIVE) {
            session_abort();
        }
        if ($this->handler === 'files') {
            $path = realpath($dir);
        } else {
            // One key space per session directory, so histories (and
            // proptest cases) never see each other's sessions.
            $path = 'tcp://' . REDIS_ADDR . '?prefix=sc' . substr(md5(realpath($dir)), 0, 12) . ':&timeout=5';
        }
        if (ini_set('session.save_path', $path) === false) {
            throw new ProtocolError("open: cannot set session.save_path to $path");
        }
        $this->opened = true;
        return ['id' => $id, 'outcome' => 'ok'];
    }

    // --- one request each -------------------------------------------------

    private function key($msg): string {
        $k = $msg->key ?? '';
        if (!is_string($k)) {
            throw new ProtocolError('key must be a string');
        }
        return $k;
    }

    // start is session_id($key); session_start(): the request arriving with
    // its cookie. It throws on a failed start, which is the store failing.
    private function start(string $key, array $opts = []): void {
        session_id($key);
        if (!@session_start($opts)) {
            $e = error_get_last();
            throw new RuntimeException('session_start failed: ' . ($e['message'] ?? 'no message'));
        }
    }

    // live is the adapter's expiry rule over the loaded $_SESSION: a session
    // is there only with an expiry after the protocol's fixed now. (PHP
    // itself creates an empty session for any unknown id.)
    private function live(): bool {
        $e = $_SESSION[EXPIRY_FIELD] ?? null;
        return is_string($e) && ctype_digit($e) && $this->now < (int)$e;
    }

    // close is session_write_close(). PHP returns true even when the
    // handler's write failed (it only warns "Failed to write session
    // data"), so the warning is what says the store failed.
    private function close(): void {
        error_clear_last();
        $ok = @session_write_close();
        $e = error_get_last();
        if (!$ok || ($e !== null && $e['type'] === E_WARNING)) {
            throw new RuntimeException('session_write_close: ' . ($e['message'] ?? 'returned false'));
        }
    }

    // missing ends a request that found no live session: it changes nothing.
    private function missing(): array {
        session_abort();
        return ['outcome' => 'not-found'];
    }

    function storeOp(string $op, object $msg): array {
        error_clear_last();
        try {
            $key = '';
            if ($op !== 'create' && $op !== 'clear-expired') {
                $key = $this->key($msg);
                if (!preg_match(KEY_RE, $key)) {
                    return ['outcome' => 'invalid-key', 'message' => 'session key ' . json_encode($key) . ' is not ^[a-z0-9]{8,64}$'];
                }
            }
            switch ($op) {
                case 'create':
                    $values = parse_values($msg->values ?? null);
                    $exp = parse_time($msg->expiry ?? null, 'expiry');
                    // No cookie: session_start draws a fresh id (the
                    // handler's create_sid, which avoids existing ids).
                    session_id('');
                    if (!@session_start()) {
                        throw new RuntimeException('session_start failed: ' . (error_get_last()['message'] ?? ''));
                    }
                    $_SESSION = $values;
                    $_SESSION[EXPIRY_FIELD] = (string)$exp;
                    $new = session_id();
                    $this->close();
                    return ['outcome' => 'ok', 'key' => $new];
                case 'load':
                case 'exists':
                    $this->start($key);
                    if (!$this->live()) {
                        $this->missing();
                        return $op === 'exists' ? ['outcome' => 'ok', 'exists' => false] : ['outcome' => 'not-found'];
                    }
                    $data = $_SESSION;
                    $this->close();
                    if ($op === 'exists') {
                        return ['outcome' => 'ok', 'exists' => true];
                    }
                    $exp = (int)$data[EXPIRY_FIELD];
                    unset($data[EXPIRY_FIELD]);
                    $vals = [];
                    foreach ($data as $k => $v) {
                        $vals[(string)$k] = is_string($v) ? $v : var_export($v, true);
                    }
                    return ['outcome' => 'ok', 'record' => ['values' => (object)$vals, 'expiry' => format_time($exp)]];
                case 'save':
                    $values = parse_values($msg->values ?? null);
                    $exp = parse_time($msg->expiry ?? null, 'expiry');
                    $this->start($key);
                    if (!$this->live()) {
                        return $this->missing();
                    }
                    $_SESSION = $values;
                    $_SESSION[EXPIRY_FIELD] = (string)$exp;
                    $this->close();
                    return ['outcome' => 'ok'];
                case 'touch':
                    $exp = parse_time($msg->expiry ?? null, 'expiry');
                    $this->start($key);
                    if (!$this->live()) {
                        return $this->missing();
                    }
                    $_SESSION[EXPIRY_FIELD] = (string)$exp;
                    $this->close();
                    return ['outcome' => 'ok'];
                case 'delete':
                    // Logout: the request starts its session and destroys it.
                    $this->start($key);
                    $_SESSION = [];
                    if (!@session_destroy()) {
                        throw new RuntimeException('session_destroy failed: ' . (error_get_last()['message'] ?? ''));
                    }
                    return ['outcome' => 'ok'];
                case 'cycle':
                    // Login: regenerate the id and delete the old session.
                    $this->start($key);
                    if (!$this->live()) {
                        return $this->missing();
                    }
                    if (!@session_regenerate_id(true)) {
                        throw new RuntimeException('session_regenerate_id failed: ' . (error_get_last()['message'] ?? ''));
                    }
                    $new = session_id();
                    $this->close();
                    return ['outcome' => 'ok', 'key' => $new];
            }
            throw new ProtocolError("op \"$op\" is not supported by this worker");
        } catch (RuntimeException | Error $e) {
            if (session_status() === PHP_SESSION_ACTIVE) {
                session_abort();
            }
            return ['outcome' => 'failed', 'message' => get_class($e) . ': ' . $e->getMessage()];
        }
    }
}

function main(array $argv): int {
    $handler = 'files';
    $locking = false;
    $ops = ['create', 'load', 'save', 'touch', 'delete', 'exists', 'cycle'];
    foreach (array_slice($argv, 1) as $a) {
        if (preg_match('/^--handler=(files|redis)$/', $a, $m)) {
            $handler = $m[1];
        } elseif ($a === '--locking') {
            $locking = true;
        } elseif (str_starts_with($a, '--ops=')) {
            $ops = array_values(array_filter(explode(',', substr($a, 6))));
            foreach ($ops as $o) {
                if (!in_array($o, ['create', 'load', 'save', 'touch', 'delete', 'exists', 'cycle'], true)) {
                    fwrite(STDERR, "php-worker: unknown or unsupported operation $o (clear-expired cannot be expressed: see README.md)\n");
                    return 2;
                }
            }
            foreach (['create', 'load', 'delete'] as $r) {
                if (!in_array($r, $ops, true)) {
                    fwrite(STDERR, "php-worker: --ops must include $r\n");
                    return 2;
                }
            }
        } else {
            fwrite(STDERR, "php-worker: unknown argument $a (want --handler=files|redis, --locking, --ops=...)\n");
            return 2;
        }
    }
    if ($locking && $handler !== 'redis') {
        fwrite(STDERR, "php-worker: --locking is phpredis's option; it needs --handler=redis\n");
        return 2;
    }
    if ($handler === 'redis' && !extension_loaded('redis')) {
        fwrite(STDERR, "php-worker: the redis extension is not loaded (Debian: apt-get install -y php-redis)\n");
        return 3;
    }
    (new Worker($handler, $locking, $ops))->serve();
    return 0;
}

exit(main($argv));
