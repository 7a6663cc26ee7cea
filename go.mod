module http_server

go 1.26.8

require (
	github.com/alitto/pond/v2 v2.7.1
	github.com/spf13/pflag v1.1.0
	golang.org/x/sys v0.50.0
)

require github.com/BurntSushi/toml v1.6.0

require github.com/coreos/go-systemd/v22 v22.7.0
