# frozen_string_literal: true

# sessioncheck worker for Rails 6.1's ActionDispatch::Session::CacheStore
# (docs/PROTOCOL.md), over ActiveSupport's FileStore or MemCacheStore
# (Dalli, memcached on 127.0.0.1:11299 from scripts/servers). Every store
# operation is one Rack request through the CacheStore middleware: the
# request carries the session cookie, the application reads or changes
# env["rack.session"], and the middleware commits at the end. See
# adapters/rails/README.md. Nothing here is copied from Rails; it only
# calls it.
#
#   ruby worker.rb --cache=file
#   ruby worker.rb --cache=memcache

require "json"
require "time"
require "digest"

PROTOCOL = "sessioncheck-worker"
OPS = %w[create load save touch delete exists cycle].freeze
ALL_OPS = (OPS + ["clear-expired"]).freeze
KEY_RE = /\A[a-z0-9]{8,64}\z/.freeze
# Rails sessions have no per-session expiry the protocol can set (the
# cache's expires_in is relative to the real clock), so the protocol's
# absolute expiry is kept in the session under this name, and its values
# under the other.
EXPIRY = "sc_expiry"
VALUES = "sc_values"
MEMCACHED = "127.0.0.1:11299"

class ProtocolError < StandardError; end

cache_kind = "file"
ARGV.each do |a|
  case a
  when /\A--cache=(file|memcache)\z/ then cache_kind = Regexp.last_match(1)
  else
    warn "rails-worker: unknown argument #{a} (want --cache=file|memcache)"
    exit 2
  end
end

begin
  require "action_dispatch"
  require "action_dispatch/middleware/session/cache_store"
  require "active_support"
  require "active_support/cache"
  require "rack/mock"
  require "dalli" if cache_kind == "memcache"
rescue LoadError => e
  warn "rails-worker: #{e.message} (Debian: apt-get install -y ruby-actionpack ruby-activesupport ruby-dalli)"
  exit 3
end

def parse_time(v, field)
  raise ProtocolError, "#{field}: want an RFC 3339 UTC time, got #{v.inspect}" unless v.is_a?(String) && v.end_with?("Z")
  Time.iso8601(v).utc
rescue ArgumentError => e
  raise ProtocolError, "#{field}: #{e.message}"
end

def parse_values(v)
  return {} if v.nil?
  raise ProtocolError, "values: want an object" unless v.is_a?(Hash)
  v.each { |k, s| raise ProtocolError, "values: #{k.inspect} is not a string" unless s.is_a?(String) }
  v.dup
end

class Worker
  def initialize(kind)
    @kind = kind
    @hello = false
    @store = nil
  end

  def name
    "rails-#{ActionPack::VERSION::STRING}/cache_store-#{@kind == 'file' ? 'file_store' : "mem_cache_store-dalli-#{Dalli::VERSION}"}"
  end

  # open builds the CacheStore middleware over a cache for the directory:
  # FileStore on it, or MemCacheStore with a namespace derived from it.
  def open(msg)
    dir = msg["dir"]
    raise ProtocolError, "open: missing dir" unless dir.is_a?(String) && !dir.empty?
    raise ProtocolError, "open: #{dir} is not a directory" unless File.directory?(dir)
    @now = parse_time(msg["now"], "now")
    cache = if @kind == "file"
              ActiveSupport::Cache::FileStore.new(File.join(File.realpath(dir), "cache"))
            else
              ActiveSupport::Cache::MemCacheStore.new(MEMCACHED, namespace: "sc" + Digest::MD5.hexdigest(File.realpath(dir))[0, 12],
                                                      socket_timeout: 5, socket_max_failovers: 0)
            end
    app = ->(env) { env["sc.handler"].call(env["rack.session"], env) ; [200, {}, []] }
    # expire_after: a day of the real clock, so that the cache's own
    # expiry never decides; the protocol's expiry is judged at @now.
    # In front of it, as in a Rails middleware stack, ActionDispatch::Cookies:
    # the session store sets its cookie through the request's cookie jar.
    @store = ActionDispatch::Cookies.new(
      ActionDispatch::Session::CacheStore.new(app, cache: cache, expire_after: 86_400, key: "_session_id")
    )
    @opened = true
  end

  def request(key, &handler)
    env = Rack::MockRequest.env_for("/", "HTTP_COOKIE" => key.empty? ? "" : "_session_id=#{key}")
    env["sc.handler"] = handler
    result = nil
    env["sc.result"] = ->(r) { result = r }
    _status, headers, _body = @store.call(env)
    errors = env["rack.errors"].string rescue ""
    [result, headers, errors]
  end

  def live?(s)
    e = s[EXPIRY]
    e.is_a?(String) && @now < Time.iso8601(e)
  end

  def record(s)
    { "values" => (s[VALUES] || {}).dup, "expiry" => Time.iso8601(s[EXPIRY]).utc.iso8601 }
  end

  def store_op(op, msg)
    key = ""
    unless op == "create"
      key = msg["key"] || ""
      raise ProtocolError, "key must be a string" unless key.is_a?(String)
      return { "outcome" => "invalid-key", "message" => "session key #{key.inspect} is not ^[a-z0-9]{8,64}$" } unless KEY_RE.match?(key)
    end
    out = nil
    case op
    when "create"
      values = parse_values(msg["values"]); exp = parse_time(msg["expiry"], "expiry")
      request("") do |s, _env|
        s[VALUES] = values; s[EXPIRY] = exp.iso8601
        out = { "outcome" => "ok", "key" => s.id.public_id }
      end
    when "load", "exists"
      request(key) do |s, _env|
        s.send(:load!)
        out = if s.id&.public_id == key && live?(s)
                op == "exists" ? { "outcome" => "ok", "exists" => true } : { "outcome" => "ok", "record" => record(s) }
              else
                op == "exists" ? { "outcome" => "ok", "exists" => false } : { "outcome" => "not-found" }
              end
      end
    when "save", "touch"
      values = op == "save" ? parse_values(msg["values"]) : nil; exp = parse_time(msg["expiry"], "expiry")
      request(key) do |s, _env|
        s.send(:load!)
        if s.id&.public_id == key && live?(s)
          s[VALUES] = values if values
          s[EXPIRY] = exp.iso8601
          out = { "outcome" => "ok" }
        else
          out = { "outcome" => "not-found" }
        end
      end
    when "delete"
      # Logout: reset_session, which is session.destroy.
      request(key) do |s, _env|
        s.destroy
        out = { "outcome" => "ok" }
      end
    else
      raise ProtocolError, "op #{op.inspect} is not supported by this worker"
    end
    out
  end

  def handle(line, lineno)
    msg = begin
      JSON.parse(line)
    rescue JSON::ParserError => e
      return { "id" => nil, "error" => "line #{lineno}: #{e.message}" }
    end
    return { "id" => nil, "error" => "line #{lineno}: want a JSON object" } unless msg.is_a?(Hash)
    id = msg["id"]
    return { "id" => nil, "error" => "line #{lineno}: missing or non-integer id" } unless id.is_a?(Integer)
    begin
      case msg["op"]
      when "hello"
        v = msg["version"]
        raise ProtocolError, "hello: want version >= 1" unless v.is_a?(Integer) && v >= 1
        @hello = true
        return { "id" => id, "outcome" => "ok", "protocol" => PROTOCOL, "version" => 1, "name" => name, "ops" => OPS, "features" => [] }
      end
      raise ProtocolError, "send hello first" unless @hello
      if msg["op"] == "open"
        open(msg)
        return { "id" => id, "outcome" => "ok" }
      end
      raise ProtocolError, "unknown op #{msg['op'].inspect}" unless ALL_OPS.include?(msg["op"])
      raise ProtocolError, "op \"#{msg['op']}\" is not supported by this worker" unless OPS.include?(msg["op"])
      raise ProtocolError, "no store is open: send open first" unless @opened
      begin
        { "id" => id }.merge(run_op(msg["op"], msg))
      rescue ProtocolError
        raise
      rescue StandardError => e
        { "id" => id, "outcome" => "failed", "message" => "#{e.class}: #{e.message}" }
      end
    rescue ProtocolError => e
      { "id" => id, "error" => e.message }
    end
  end

  def run_op(op, msg)
    out = store_op(op, msg)
    raise "the request ran no handler" unless out.is_a?(Hash)
    out
  end
end

# Login: renew the id (options[:renew]: at commit the old session is
# deleted and the data written under a new id, which the response's cookie
# names).
class Worker
  alias plain_store_op store_op
  def store_op(op, msg)
    return plain_store_op(op, msg) unless op == "cycle"
    key = msg["key"] || ""
    raise ProtocolError, "key must be a string" unless key.is_a?(String)
    return { "outcome" => "invalid-key", "message" => "session key #{key.inspect} is not ^[a-z0-9]{8,64}$" } unless KEY_RE.match?(key)
    out = nil
    _r, headers, errors = request(key) do |s, _env|
      s.send(:load!)
      if s.id&.public_id == key && live?(s)
        s.options[:renew] = true
        out = :renew
      else
        out = { "outcome" => "not-found" }
      end
    end
    return out unless out == :renew
    cookie = headers["Set-Cookie"].to_s
    m = /_session_id=([a-z0-9]+)/.match(cookie)
    raise "cycle: no new session cookie in the response (#{cookie.inspect}; #{errors})" unless m
    { "outcome" => "ok", "key" => m[1] }
  end
end

$stdout.sync = true
w = Worker.new(cache_kind)
lineno = 0
$stdin.each_line do |line|
  lineno += 1
  next if line.strip.empty?
  $stdout.write(JSON.generate(w.handle(line, lineno)) + "\n")
end
