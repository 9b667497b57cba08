package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/seed9bfd6bbc/ags/agstest"
)

// lockedBuffer is a bytes.Buffer safe to read while a command writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ags demo serve prints exports that later, separate runs of ags use: a
// job submitted with --no-wait by one is waited for by the next, over
// HTTPS trusted through AGS_CA_FILE. Ending its context stops it, removes
// its temporary directory and leaves no goroutine behind.
func TestDemoServe(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		a := newApp(strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
		done <- a.run(ctx, []string{"demo", "serve"})
	}()

	exportLine := regexp.MustCompile(`(?m)^export (AGS_[A-Z_]+)=(\S+)$`)
	var env map[string]string
	require.Eventually(t, func() bool {
		env = map[string]string{}
		for _, m := range exportLine.FindAllStringSubmatch(stdout.String(), -1) {
			env[m[1]] = m[2]
		}
		return len(env) == 4
	}, 10*time.Second, 10*time.Millisecond, "stdout: %q\nstderr: %q", stdout.String(), stderr.String())
	assert.Regexp(t, `^https://127\.0\.0\.1:\d+/arcgis$`, env["AGS_URL"])
	assert.Equal(t, agstest.DefaultUsername, env["AGS_USERNAME"])
	assert.Equal(t, agstest.DefaultPassword, env["AGS_PASSWORD"])
	assert.Contains(t, stderr.String(), "emulator")
	assert.Contains(t, stderr.String(), "Ctrl-C stops it")
	assert.NotContains(t, stderr.String(), agstest.DefaultPassword)
	// The password is printed once, in its export line only.
	assert.Equal(t, 1, strings.Count(stdout.String(), agstest.DefaultPassword))
	caFile := env["AGS_CA_FILE"]
	require.FileExists(t, caFile)

	ags := func(argv ...string) (string, string, int) {
		var out, errb bytes.Buffer
		a := newApp(strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
		code := a.run(context.Background(), argv)
		// Only the exports may show the demo password; the commands
		// that use it never do.
		assert.NotContains(t, out.String()+errb.String(), agstest.DefaultPassword, argv)
		return out.String(), errb.String(), code
	}
	out, errs, code := ags("refresh", "Imagery/Portland.ImageServer", "--no-wait")
	require.Equal(t, exitOK, code, errs)
	ref := strings.TrimSpace(out)
	require.Regexp(t, `^gp:\S+$`, ref)
	out, errs, code = ags("job", "wait", ref)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "succeeded")

	// Without the CA file, the emulator's certificate is not trusted.
	delete(env, "AGS_CA_FILE")
	_, _, code = ags("job", "status", ref)
	assert.NotEqual(t, exitOK, code)

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("demo serve did not stop when its context ended")
	}
	_, err := os.Stat(filepath.Dir(caFile))
	assert.True(t, os.IsNotExist(err), "the temporary directory %s outlives demo serve: %v", filepath.Dir(caFile), err)
}
