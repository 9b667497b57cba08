package ags_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// staticsForbidden are texts no shipped Go file of this module may hold:
// the library never turns TLS verification off, and never builds a
// retryablehttp client with NewClient (which logs every URL, query and
// token included, to stderr).
var staticsForbidden = []string{
	"InsecureSkipVerify",
	"retryablehttp.NewClient(",
}

// staticsScan walks the non-test .go files under root (skipping testdata,
// vendor, hidden and underscore directories) and returns one finding per
// forbidden text on a line, and the number of files read.
func staticsScan(root string) (findings []string, files int, err error) {
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, bad := range staticsForbidden {
				if strings.Contains(line, bad) {
					findings = append(findings, fmt.Sprintf("%s:%d: %s: %s", path, i+1, bad, strings.TrimSpace(line)))
				}
			}
		}
		return nil
	})
	return findings, files, err
}

// TestStaticsForbiddenCalls fails on any forbidden text in the module's
// shipped Go files.
func TestStaticsForbiddenCalls(t *testing.T) {
	t.Parallel()
	root := "." // go test runs in the package directory: the module root
	_, err := os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "not at the module root")

	findings, files, err := staticsScan(root)
	require.NoError(t, err)
	for _, f := range findings {
		t.Error(f)
	}
	// Guard against a walk that silently saw nothing.
	assert.Greater(t, files, 10, "walked too few .go files")
	for _, must := range []string{"client.go", filepath.Join("internal", "transport", "transport.go"), filepath.Join("agstest", "server.go")} {
		_, err := os.Stat(filepath.Join(root, must))
		assert.NoError(t, err, "expected %s in the walk", must)
	}
}

// TestStaticsScanFinds checks the scanner itself on a planted tree.
func TestStaticsScanFinds(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	write("a.go", "package a\nvar c = &tls.Config{InsecureSkipVerify: true}\n")
	write("sub/b.go", "package b\nvar c = retryablehttp.NewClient()\n")
	write("sub/ok.go", "package b\n// A struct literal, not retryablehttp.NewClient: it logs.\n")
	write("a_test.go", "package a\nvar c = &tls.Config{InsecureSkipVerify: true}\n")
	write("testdata/x.go", "package x\nvar c = retryablehttp.NewClient()\n")
	write(".hidden/y.go", "package y\nvar c = retryablehttp.NewClient()\n")

	findings, files, err := staticsScan(root)
	require.NoError(t, err)
	assert.Equal(t, 3, files)
	require.Len(t, findings, 2, "%q", findings)
	assert.Contains(t, findings[0], filepath.Join(root, "a.go")+":2: InsecureSkipVerify")
	assert.Contains(t, findings[1], filepath.Join(root, "sub", "b.go")+":2: retryablehttp.NewClient(")
}
