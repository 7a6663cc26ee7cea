package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/pflag"
)

// fileKey is an option's name in the config file: write-limit -> write_limit.
func fileKey(flag string) string { return strings.ReplaceAll(flag, "-", "_") }

// envKey is an option's environment variable: write-limit -> HTTP_SERVER_WRITE_LIMIT.
func envKey(flag string) string {
	return "HTTP_SERVER_" + strings.ToUpper(fileKey(flag))
}

// optionError names an option and where its bad value came from.
func (c *config) optionError(flag, msg string) error {
	switch src := c.source[flag]; {
	case src == "":
		return fmt.Errorf("--%s: %s", flag, msg)
	case strings.HasPrefix(src, "flag"):
		return fmt.Errorf("--%s: %s", flag, msg)
	default:
		return fmt.Errorf("%s: %s", src, msg)
	}
}

// applyEnv sets every option not given as a flag from HTTP_SERVER_<NAME>.
func applyEnv(fs *pflag.FlagSet, c *config, env func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || metaFlags[f.Name] && f.Name != "config" {
			return
		}
		if _, set := c.source[f.Name]; set {
			return
		}
		v, ok := env(envKey(f.Name))
		if !ok {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("environment %s=%q: %v", envKey(f.Name), v, cleanSetError(e))
			return
		}
		c.source[f.Name] = "environment " + envKey(f.Name)
	})
	return err
}

// applyFile sets every option given neither as a flag nor in the
// environment from the TOML file. Unknown keys, tables and values of the
// wrong type are errors naming the key.
func applyFile(fs *pflag.FlagSet, c *config, path string) error {
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return fmt.Errorf("%s: line %d: %s", path, perr.Position.Line, perr.Message)
		}
		return fmt.Errorf("config file: %w", err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		name := strings.ReplaceAll(key, "_", "-")
		f := fs.Lookup(name)
		if f == nil || metaFlags[name] || strings.Contains(key, "-") {
			return fmt.Errorf("%s: unknown key %q", path, key)
		}
		if _, set := c.source[name]; set {
			continue // a flag or the environment wins
		}
		v, err := tomlValue(f, raw[key])
		if err == nil {
			err = fs.Set(name, v)
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %v", path, key, cleanSetError(err))
		}
		c.source[name] = path + ": " + key
	}
	return nil
}

// tomlValue checks that a TOML value has the option's type and renders it
// for pflag: numbers for numeric options, strings for text and durations.
func tomlValue(f *pflag.Flag, v any) (string, error) {
	want := f.Value.Type()
	switch x := v.(type) {
	case int64:
		if want == "int" || want == "int64" {
			return strconv.FormatInt(x, 10), nil
		}
	case string:
		if want == "string" || want == "duration" {
			return x, nil
		}
	case bool:
		if want == "bool" {
			return strconv.FormatBool(x), nil
		}
	case map[string]any:
		return "", errors.New("expected a value, found a table")
	}
	kind := map[string]string{"int": "an integer", "int64": "an integer", "string": "a string",
		"duration": `a duration string such as "60s"`, "bool": "true or false"}[want]
	return "", fmt.Errorf("expected %s, found %v (%T)", kind, v, v)
}

// cleanSetError trims pflag's wording down to the reason.
func cleanSetError(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "invalid") {
		return errors.New("invalid value: " + msg[i+2:])
	}
	return err
}

// printConfig writes the effective configuration as TOML, each option with
// where its value came from.
func (c *config) print(w io.Writer) {
	fmt.Fprintln(w, "# effective configuration of http_server")
	c.flags.VisitAll(func(f *pflag.Flag) {
		if metaFlags[f.Name] {
			return
		}
		val := f.Value.String()
		if f.Name == "port" {
			val = strconv.Itoa(c.port) // port.txt is applied outside the flag set
		}
		switch f.Value.Type() {
		case "string", "duration":
			val = strconv.Quote(val)
		}
		src := c.source[f.Name]
		if src == "" {
			src = "default"
		}
		fmt.Fprintf(w, "%-18s = %-12s # %s\n", fileKey(f.Name), val, src)
	})
}
