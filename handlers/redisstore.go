package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// redisStore keeps the /write value under one key in Redis, so that
// several instances behind a load balancer read each other's writes. Each
// call has the store timeout as its deadline; a Redis that is down or slow
// costs only /write and /read (503 with Retry-After), and the client
// reconnects by itself when Redis is back. rueidis pipelines the calls of
// concurrent workers on one connection (measured: 1.9-2.6x go-redis's
// round trips with 4 to 64 workers, level with one; see the README).
type redisStore struct {
	opt     rueidis.ClientOption
	key     string
	timeout time.Duration

	mu      sync.Mutex
	c       rueidis.Client // nil until Redis first answered: the server starts without it
	dialing bool           // a worker is connecting: the others answer 503 rather than queue behind it
}

// OpenStore opens the store a --store URL names: "memory", "file:PATH"
// (the value in a state file, as --state-file), or
// "redis://[user:password@]host:port[/db]" ("rediss://" for TLS), where
// the value lives under key. timeout bounds each Redis call.
func OpenStore(url, key string, timeout time.Duration) (Store, error) {
	switch {
	case url == "" || url == "memory":
		return openStore("")
	case strings.HasPrefix(url, "file:"):
		path := strings.TrimPrefix(url, "file:")
		if path == "" {
			return nil, errors.New("store file: needs a path (file:/var/lib/http_server/value)")
		}
		return openStore(path)
	case strings.HasPrefix(url, "redis://"), strings.HasPrefix(url, "rediss://"):
		o, err := rueidis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", redactURL(url), err)
		}
		if key == "" {
			return nil, errors.New("store key: must not be empty")
		}
		// No client-side cache: a read must see another instance's write
		// at once. Dial and writes are bounded like the calls.
		o.DisableCache = true
		o.Dialer.Timeout = timeout
		o.ConnWriteTimeout = timeout
		s := &redisStore{opt: o, key: key, timeout: timeout}
		s.client() // connect now if Redis answers; later otherwise
		return s, nil
	}
	return nil, fmt.Errorf("store %q: want memory, file:PATH, redis://host:port[/db] or rediss://...", redactURL(url))
}

// redactURL hides a password in a store URL for messages.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	at := strings.LastIndexByte(rest, '@')
	if !ok || at < 0 {
		return u
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":***@" + rest[at+1:]
}

// client returns the Redis client, making it if Redis was not reachable
// before (rueidis connects when the client is made).
func (s *redisStore) client() (rueidis.Client, error) {
	s.mu.Lock()
	if s.c != nil || s.dialing {
		c := s.c
		s.mu.Unlock()
		if c == nil {
			return nil, fmt.Errorf("%w: connecting", ErrStoreUnavailable)
		}
		return c, nil
	}
	s.dialing = true
	s.mu.Unlock()
	c, err := rueidis.NewClient(s.opt) // dials: at most the store timeout
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dialing = false
	if err != nil {
		return nil, fmt.Errorf("%w: connect: %v", ErrStoreUnavailable, err)
	}
	s.c = c
	return c, nil
}

// do runs one command within the store timeout: what the command built
// by build answered, or ErrStoreUnavailable when Redis is not connected.
func (s *redisStore) do(build func(rueidis.Client) rueidis.Completed) (rueidis.RedisResult, error) {
	c, err := s.client()
	if err != nil {
		return rueidis.RedisResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	return c.Do(ctx, build(c)), nil
}

// Load reads the value; a key that was never written is <empty>.
func (s *redisStore) Load() ([]byte, error) {
	res, err := s.do(func(c rueidis.Client) rueidis.Completed { return c.B().Get().Key(s.key).Build() })
	if err != nil {
		return nil, err
	}
	v, err := res.AsBytes()
	switch {
	case rueidis.IsRedisNil(err):
		return emptyValue, nil
	case err != nil:
		return nil, fmt.Errorf("%w: GET: %v", ErrStoreUnavailable, err)
	}
	return v, nil
}

// Save writes the value. An acknowledged write is one Redis answered OK
// to: it survives a Redis crash only as far as Redis's own persistence
// does (see the README).
func (s *redisStore) Save(b []byte) ([]byte, error) {
	c := append([]byte(nil), b...)
	res, err := s.do(func(cl rueidis.Client) rueidis.Completed {
		return cl.B().Set().Key(s.key).Value(rueidis.BinaryString(c)).Build()
	})
	if err != nil {
		return nil, err
	}
	if err := res.Error(); err != nil {
		return nil, fmt.Errorf("%w: SET: %v", ErrStoreUnavailable, err)
	}
	return c, nil
}

// Check pings Redis within the timeout.
func (s *redisStore) Check() error {
	res, err := s.do(func(c rueidis.Client) rueidis.Completed { return c.B().Ping().Build() })
	if err != nil {
		return err
	}
	if err := res.Error(); err != nil {
		return fmt.Errorf("%w: PING: %v", ErrStoreUnavailable, err)
	}
	return nil
}

func (s *redisStore) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		s.c.Close()
	}
}
