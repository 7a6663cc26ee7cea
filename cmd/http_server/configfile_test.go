package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// env returns a lookup over the given variables only.
func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "http_server.toml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Flags beat the environment, which beats the file, which beats port.txt,
// which beats the default.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	portFile := filepath.Join(dir, "port.txt")
	os.WriteFile(portFile, []byte("7001"), 0o644)
	file := writeFile(t, "port = 7002\nqueue = 11\nwrite_limit = 2048\nheader_timeout = \"5s\"\n")

	c, err := parseConfigEnv([]string{"--config", file, "--queue", "33"}, &bytes.Buffer{}, portFile,
		env("HTTP_SERVER_QUEUE", "22", "HTTP_SERVER_WRITE_LIMIT", "4096"))
	if err != nil {
		t.Fatal(err)
	}
	if c.queue != 33 || c.writeLimit != 4096 || c.port != 7002 || c.headerTimeout != 5*time.Second {
		t.Fatalf("queue %d (flag), write limit %d (env), port %d (file), header timeout %v (file)",
			c.queue, c.writeLimit, c.port, c.headerTimeout)
	}

	c, err = parseConfigEnv([]string{"--config", writeFile(t, "queue = 5\n")}, &bytes.Buffer{}, portFile, env())
	if err != nil || c.port != 7001 {
		t.Fatalf("port.txt under the file: port %d, %v", c.port, err)
	}
	c, err = parseConfigEnv(nil, &bytes.Buffer{}, portFile, env("HTTP_SERVER_PORT", "7003"))
	if err != nil || c.port != 7003 {
		t.Fatalf("environment over port.txt: port %d, %v", c.port, err)
	}
	c, err = parseConfigEnv(nil, &bytes.Buffer{}, filepath.Join(dir, "none"), env())
	if err != nil || c.port != 8080 || c.queue != 1024 {
		t.Fatalf("defaults: port %d queue %d, %v", c.port, c.queue, err)
	}
	c, err = parseConfigEnv(nil, &bytes.Buffer{}, filepath.Join(dir, "none"), env("HTTP_SERVER_CONFIG", file))
	if err != nil || c.queue != 11 {
		t.Fatalf("HTTP_SERVER_CONFIG names the file: queue %d, %v", c.queue, err)
	}
}

// Every bad value is an error that names the option and where it came from.
func TestConfigErrorMessages(t *testing.T) {
	none := filepath.Join(t.TempDir(), "none")
	cases := []struct {
		file string
		args []string
		env  []string
		want string
	}{
		{file: "prot = 1\n", want: `unknown key "prot"`},
		{file: "port = \"8080\"\n", want: "port: expected an integer"},
		{file: "queue = 1.5\n", want: "queue: expected an integer"},
		{file: "header_timeout = 5\n", want: "header_timeout: expected a duration"},
		{file: "header_timeout = \"soon\"\n", want: "header_timeout: invalid value"},
		{file: "port = 1\nport = 2\n", want: "line 2"},
		{file: "port = \n", want: "line 1"},
		{file: "[server]\nport = 1\n", want: `unknown key "server"`},
		{file: "write-limit = 1\n", want: `unknown key "write-limit"`},
		{file: "config = \"x\"\n", want: `unknown key "config"`},
		{file: "port = 70000\n", want: "http_server.toml: port: 70000 must be 0..65535"},
		{file: "compat = \"retro\"\n", want: "http_server.toml: compat: must be modern or classic"},
		{file: "idle_timeout = \"-1s\"\n", want: "idle_timeout: -1s must be a positive duration"},
		{env: []string{"HTTP_SERVER_WORKERS", "many"}, want: "environment HTTP_SERVER_WORKERS=\"many\": invalid value"},
		{env: []string{"HTTP_SERVER_QUEUE", "0"}, want: "environment HTTP_SERVER_QUEUE: 0 must be 1 or more"},
		{args: []string{"--queue", "0"}, want: "--queue: 0 must be 1 or more"},
		{args: []string{"--config", none}, want: "config file"},
	}
	for _, c := range cases {
		args := c.args
		if c.file != "" {
			args = append([]string{"--config", writeFile(t, c.file)}, args...)
		}
		_, err := parseConfigEnv(args, &bytes.Buffer{}, none, env(c.env...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("file %q args %v env %v: error %v, want it to contain %q", c.file, c.args, c.env, err, c.want)
		}
	}
}

// The example file documents every option with its default, and loads.
func TestExampleConfigCoversEveryOption(t *testing.T) {
	example := filepath.Join("..", "..", "configs", "http_server.toml")
	text, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	c := &config{}
	fs, _, _ := newFlagSet(c)
	fs.VisitAll(func(f *pflag.Flag) {
		if metaFlags[f.Name] {
			return
		}
		line := regexp.MustCompile(`(?m)^# ` + fileKey(f.Name) + ` = (.+)$`).FindSubmatch(text)
		if line == nil {
			t.Errorf("%s does not document %s", example, fileKey(f.Name))
			return
		}
		want := f.DefValue
		if f.Value.Type() == "duration" || f.Value.Type() == "string" {
			d, _ := time.ParseDuration(f.DefValue)
			got := strings.Trim(string(line[1]), `"`)
			if g, err := time.ParseDuration(got); err == nil && g == d {
				return
			}
			if got == want {
				return
			}
			t.Errorf("%s: example says %s, default is %s", f.Name, line[1], want)
			return
		}
		if f.Name == "workers" {
			return // depends on the machine; the comment explains it
		}
		if string(line[1]) != want {
			t.Errorf("%s: example says %s, default is %s", f.Name, line[1], want)
		}
	})
	if _, err := parseConfigEnv([]string{"--config", example}, &bytes.Buffer{}, "none", env()); err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
}

func TestPrintConfig(t *testing.T) {
	c, err := parseConfigEnv([]string{"--config", writeFile(t, "queue = 7\n"), "--port", "9"}, &bytes.Buffer{}, "none", env())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c.print(&out)
	for _, want := range []string{"queue              = 7", "port               = 9            # flag --port", `header_timeout     = "1m0s"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out.String())
		}
	}
}
