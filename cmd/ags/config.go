package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/seed9bfd6bbc/ags"
)

// configFile is the profiles file, by default <user config dir>/ags/config.yaml:
//
//	profiles:
//	  prod:
//	    url: https://gis.example.com:6443/arcgis
//	    username: publisher
//	    password_command: pass show gis/prod
//	    referer: https://ops.example.com
//	    ca_file: /etc/ssl/certs/corp-ca.pem
//
// A profile may hold a plaintext password (or token) only if the file is
// readable by its owner alone (mode 0600); otherwise ags refuses to read it.
type configFile struct {
	Profiles map[string]profile `yaml:"profiles"`
}

// profile is one site.
type profile struct {
	URL             string `yaml:"url"`
	Username        string `yaml:"username"`
	Password        string `yaml:"password"`         // only in a 0600 file
	Token           string `yaml:"token"`            // only in a 0600 file
	PasswordCommand string `yaml:"password_command"` // run by the shell; its stdout is the password
	Referer         string `yaml:"referer"`
	CAFile          string `yaml:"ca_file"`
	InsecureHTTP    bool   `yaml:"insecure_http"`
}

// configPath returns where the profiles file is: --config, $AGS_CONFIG, or
// <user config dir>/ags/config.yaml.
func (a *app) configPath() (string, error) {
	if a.flags.config != "" {
		return a.flags.config, nil
	}
	if p := a.getenv("AGS_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", usageErr("no profiles file: %v (set AGS_CONFIG)", err)
	}
	return filepath.Join(dir, "ags", "config.yaml"), nil
}

// loadConfig reads the profiles file. It refuses a file that holds a
// password or token unless only its owner may read it.
func (a *app) loadConfig() (*configFile, string, error) {
	path, err := a.configPath()
	if err != nil {
		return nil, "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, path, usageErr("profiles file: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, path, usageErr("profiles file: %v", err)
	}
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var cfg configFile
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, path, usageErr("profiles file %s: %v", path, err)
	}
	// Mode bits mean nothing on Windows; there the file's ACL protects it.
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		for _, name := range sortedKeys(cfg.Profiles) {
			p := cfg.Profiles[name]
			if p.Password != "" || p.Token != "" {
				return nil, path, usageErr("profiles file %s holds a password or token for profile %q but is mode %04o: "+
					"run chmod 600 %s, or use password_command instead", path, name, st.Mode().Perm(), path)
			}
		}
	}
	return &cfg, path, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// siteConfig is everything needed to connect to one site.
type siteConfig struct {
	name         string // profile name, "" without one
	url          string
	username     string
	password     string
	token        string
	referer      string
	caFile       string
	insecureHTTP bool
}

// profileNames returns the profiles asked for by --profile or $AGS_PROFILE
// (comma-separated), or nil for none.
func (a *app) profileNames() []string {
	v := a.flags.profile
	if v == "" {
		v = a.getenv("AGS_PROFILE")
	}
	var names []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// sites resolves the sites a command runs against. A profile gives the
// URL, user, referer, CA file and password source; the AGS_* variables fill
// what it leaves empty, and --url, --user and --password-file override both.
func (a *app) sites(ctx context.Context) ([]siteConfig, error) {
	names := a.profileNames()
	var cfg *configFile
	var path string
	if len(names) > 0 {
		var err error
		if cfg, path, err = a.loadConfig(); err != nil {
			return nil, err
		}
	} else {
		names = []string{""}
	}
	var filePassword string
	if a.flags.passwordFile != "" {
		b, err := os.ReadFile(a.flags.passwordFile)
		if err != nil {
			return nil, usageErr("--password-file: %v", err)
		}
		filePassword, _, _ = strings.Cut(string(b), "\n")
		filePassword = strings.TrimRight(filePassword, "\r")
		if filePassword == "" {
			return nil, usageErr("--password-file %s is empty", a.flags.passwordFile)
		}
	}
	var out []siteConfig
	for _, name := range names {
		var p profile
		if name != "" {
			var ok bool
			if p, ok = cfg.Profiles[name]; !ok {
				return nil, usageErr("no profile %q in %s (have: %s)", name, path, strings.Join(sortedKeys(cfg.Profiles), ", "))
			}
		}
		s := siteConfig{
			name:         name,
			url:          first(a.flags.url, p.URL, a.getenv("AGS_URL")),
			username:     first(a.flags.user, p.Username, a.getenv("AGS_USERNAME")),
			referer:      first(a.flags.referer, p.Referer, a.getenv("AGS_REFERER")),
			caFile:       first(a.flags.caFile, p.CAFile, a.getenv("AGS_CA_FILE")),
			insecureHTTP: a.flags.insecureHTTP || p.InsecureHTTP || envTrue(a.getenv("AGS_INSECURE_HTTP")),
		}
		switch {
		case filePassword != "":
			s.password = filePassword
		case p.Password != "":
			s.password = p.Password
		case p.Token != "":
			s.token = p.Token
		case p.PasswordCommand != "":
			pw, err := runPasswordCommand(ctx, p.PasswordCommand, a.stderr)
			if err != nil {
				return nil, usageErr("profile %q: password_command: %v", name, err)
			}
			s.password = pw
		default:
			s.password = a.getenv("AGS_PASSWORD")
			s.token = a.getenv("AGS_TOKEN")
		}
		if s.url == "" {
			if name != "" {
				return nil, usageErr("profile %q has no url", name)
			}
			return nil, usageErr("no site: set AGS_URL, pass --url or --profile, or try --demo")
		}
		if s.password != "" && s.username == "" {
			return nil, usageErr("a password without a username: set AGS_USERNAME or --user")
		}
		if s.username != "" && s.password == "" && s.token == "" {
			return nil, usageErr("no password for %s: set AGS_PASSWORD, --password-file or a profile's password_command", s.username)
		}
		out = append(out, s)
	}
	return out, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func envTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// runPasswordCommand runs cmd through the shell and returns its first line
// of output. Its output never appears in an error.
func runPasswordCommand(ctx context.Context, cmd string, stderr io.Writer) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var c *exec.Cmd
	if runtime.GOOS == "windows" {
		c = exec.CommandContext(ctx, "cmd", "/C", cmd)
	} else {
		c = exec.CommandContext(ctx, "sh", "-c", cmd)
	}
	var out bytes.Buffer
	c.Stdout = &out
	c.Stderr = stderr
	// The command line itself is not quoted in errors: it may hold a secret.
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("failed: %v", err)
	}
	pw, _, _ := strings.Cut(out.String(), "\n")
	pw = strings.TrimRight(pw, "\r")
	if pw == "" {
		return "", errors.New("printed no password")
	}
	return pw, nil
}

// clientOptions turns a site's settings into client options.
func (s siteConfig) clientOptions() ([]ags.Option, error) {
	var opts []ags.Option
	switch {
	case s.token != "":
		opts = append(opts, ags.WithToken(s.token))
	case s.username != "":
		opts = append(opts, ags.WithCredentials(s.username, s.password))
	}
	if s.referer != "" {
		opts = append(opts, ags.WithReferer(s.referer))
	}
	if s.insecureHTTP {
		opts = append(opts, ags.WithInsecureHTTP())
	}
	if s.caFile != "" {
		pem, err := os.ReadFile(s.caFile)
		if err != nil {
			return nil, usageErr("CA file: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageErr("CA file %s holds no PEM certificate", s.caFile)
		}
		tr := ags.DefaultTransport()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		opts = append(opts, ags.WithHTTPClient(&http.Client{Transport: tr}))
	}
	return opts, nil
}
