package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"http_server/logging"
)

// setupLogging makes the default slog logger write, text or JSON, through a
// queue, so that no caller (the reactor included) ever waits for stderr.
func setupLogging(cfg *config, stderr io.Writer) (*logging.Writer, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: must be debug, info, warn or error", cfg.logLevel)
	}
	w := logging.NewWriter(stderr, 4096)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.logFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	slog.SetDefault(slog.New(h))
	return w, nil
}

// openAccessLog opens --access-log: a file, "-" for standard output, or
// "off" (nil).
func openAccessLog(cfg *config) (*logging.Access, error) {
	const depth = 16384 // lines in flight before new ones are dropped
	var w *logging.Writer
	switch cfg.accessLog {
	case "off", "":
		return nil, nil
	case "-":
		w = logging.NewWriter(os.Stdout, depth)
	default:
		var err error
		if w, err = logging.OpenFile(cfg.accessLog, depth); err != nil {
			return nil, fmt.Errorf("--access-log: %w", err)
		}
	}
	return logging.NewAccess(w, cfg.accessLogFormat == "json"), nil
}
