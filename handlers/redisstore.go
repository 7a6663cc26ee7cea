package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisStore keeps the /write value under one key in Redis, so that
// several instances behind a load balancer read each other's writes. Each
// call has the store timeout as its deadline; a Redis that is down or slow
// costs only /write and /read (503 with Retry-After), and the client
// reconnects by itself when Redis is back.
type redisStore struct {
	c       *redis.Client
	key     string
	timeout time.Duration
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
		o, err := redis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", redactURL(url), err)
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = timeout, timeout, timeout
		o.MaxRetries = 1 // one retry within the deadline; the pool redials a dropped connection
		if key == "" {
			return nil, errors.New("store key: must not be empty")
		}
		return &redisStore{c: redis.NewClient(o), key: key, timeout: timeout}, nil
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

func (s *redisStore) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// Load reads the value; a key that was never written is <empty>.
func (s *redisStore) Load() ([]byte, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	v, err := s.c.Get(ctx, s.key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
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
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.c.Set(ctx, s.key, c, 0).Err(); err != nil {
		return nil, fmt.Errorf("%w: SET: %v", ErrStoreUnavailable, err)
	}
	return c, nil
}

// Check pings Redis within the timeout.
func (s *redisStore) Check() error {
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w: PING: %v", ErrStoreUnavailable, err)
	}
	return nil
}

func (s *redisStore) Close() { s.c.Close() }
