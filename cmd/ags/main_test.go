package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"go.uber.org/goleak"

	"github.com/seed9bfd6bbc/ags/agstest"
)

func TestMain(m *testing.M) {
	testscript.Main(leakChecked{m}, map[string]func(){"ags": agsChecked})
}

// leakChecked fails the tests run in this process (the in-process ones:
// interrupts, manifests, help) if a goroutine outlives them.
type leakChecked struct{ m *testing.M }

func (l leakChecked) Run() int {
	code := l.m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			return 1
		}
	}
	return code
}

// agsChecked runs ags as main does, then fails with exit code 99 if
// anything it wrote holds one of the secrets listed in $AGS_TEST_SECRETS
// (comma-separated): every ags command of every script is checked.
func agsChecked() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var out, errb bytes.Buffer
	code := newApp(os.Stdin, &out, &errb, os.Getenv).run(ctx, os.Args[1:])
	stop()
	_, _ = os.Stdout.Write(out.Bytes())
	_, _ = os.Stderr.Write(errb.Bytes())
	for i, secret := range strings.Split(os.Getenv("AGS_TEST_SECRETS"), ",") {
		if secret == "" {
			continue
		}
		if bytes.Contains(out.Bytes(), []byte(secret)) || bytes.Contains(errb.Bytes(), []byte(secret)) {
			fmt.Fprintf(os.Stderr, "TEST FAILURE: secret #%d of AGS_TEST_SECRETS appeared in the output\n", i)
			os.Exit(99)
		}
	}
	os.Exit(code)
}

// emulators are the agstest servers of running scripts, by $WORK.
var emulators sync.Map

type emulator struct {
	srv    *agstest.Server
	mu     sync.Mutex
	frozen time.Time // zero: the clock runs
}

func (e *emulator) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.frozen.IsZero() {
		return e.frozen
	}
	return time.Now()
}

// testJobDuration is how long the scripts' jobs take: short, so that the
// whole package runs in seconds.
const testJobDuration = 150 * time.Millisecond

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			e := &emulator{}
			e.srv = agstest.NewServer(agstest.WithJobDuration(testJobDuration), agstest.WithClock(e.now))
			seedDemo(e.srv)
			e.srv.RegisterTask("Tools/GPServer/Echo", func(p url.Values) (map[string]any, error) {
				return map[string]any{"echoed": p.Get("text")}, nil
			})
			emulators.Store(env.WorkDir, e)
			env.Defer(func() {
				e.srv.Close()
				emulators.Delete(env.WorkDir)
			})
			env.Setenv("AGS_URL", e.srv.URL())
			env.Setenv("EMU_URL", e.srv.URL())
			env.Setenv("AGS_USERNAME", agstest.DefaultUsername)
			env.Setenv("AGS_PASSWORD", agstest.DefaultPassword)
			env.Setenv("AGS_INSECURE_HTTP", "1") // agstest.NewServer speaks plain http
			env.Setenv("AGS_CONFIG", env.WorkDir+"/config.yaml")
			env.Setenv("AGS_TEST_SECRETS", agstest.DefaultPassword+",wrong-password-xyz")
			// Under -race, every process sleeps a second at exit (the race
			// runtime's atexit_sleep_ms) unless told not to; the scripts
			// start ags over a hundred times.
			env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"emu":        cmdEmu,
			"json":       cmdJSON,
			"stdout2env": cmdStdoutToEnv,
			"agsexit":    cmdAgsExit,
		},
	})
}

// cmdEmu acts on the script's emulator:
//
//	emu fail-jobs MESSAGE    jobs completing from now on fail with MESSAGE
//	emu fail-tiles LEVEL...  the next cache job fails every second tile at LEVELs
//	emu tiles F N T LEVEL    prints how many tiles the service's cache holds at LEVEL
//	emu sd FILE SIZE         writes a generated .sd of SIZE bytes
//	emu fail-publish LINE    publish jobs fail with LINE
//	emu scheme-wkid F N T W  the service's cache gets the demo's scheme, said to be in WKID W
//	emu sent SUFFIX PARAM    prints PARAM of the last request to a path ending in SUFFIX
//	                         (! emu sent SUFFIX PARAM: no such request since the last reset)
//	emu reset                forgets the requests received so far
//	emu requests             prints how many requests arrived since the last reset
//	emu freeze               the clock stops: running jobs stay running
//	emu thaw                 the clock runs again
//	emu has-service F N T    the service exists (! emu has-service: it does not)
//	emu faults html502       every answer is an HTML 502 page
//	emu token                sets AGS_TOKEN to a fresh token (and adds it to the secrets)
func cmdEmu(ts *testscript.TestScript, neg bool, args []string) {
	v, ok := emulators.Load(ts.Getenv("WORK"))
	if !ok || len(args) == 0 {
		ts.Fatalf("usage: emu fail-jobs|freeze|has-service|faults|token ...")
	}
	e := v.(*emulator)
	switch args[0] {
	case "fail-jobs":
		msg := strings.Join(args[1:], " ")
		e.srv.FailJobs(func(string, url.Values) string { return msg })
	case "fail-tiles": // emu fail-tiles LEVEL...: the next cache job fails every second tile at those levels
		var levels []int
		for _, a := range args[1:] {
			l, err := strconv.Atoi(a)
			ts.Check(err)
			levels = append(levels, l)
		}
		e.srv.FailTiles(levels...)
	case "tiles": // emu tiles FOLDER NAME TYPE LEVEL: prints how many tiles the cache holds at LEVEL
		if len(args) != 5 {
			ts.Fatalf("usage: emu tiles FOLDER NAME TYPE LEVEL")
		}
		l, err := strconv.Atoi(args[4])
		ts.Check(err)
		fmt.Fprintln(ts.Stdout(), e.srv.TileCount(args[1], args[2], args[3], l))
	case "reset": // emu reset: forget the requests received so far
		e.srv.ResetRequests()
	case "requests": // emu requests: prints how many requests arrived since the last reset
		fmt.Fprintln(ts.Stdout(), len(e.srv.Requests()))
	case "freeze":
		e.mu.Lock()
		e.frozen = time.Now()
		e.mu.Unlock()
	case "thaw": // emu thaw: the clock runs again
		e.mu.Lock()
		e.frozen = time.Time{}
		e.mu.Unlock()
	case "has-service":
		if len(args) != 4 {
			ts.Fatalf("usage: emu has-service FOLDER NAME TYPE")
		}
		folder := args[1]
		if folder == "-" {
			folder = ""
		}
		_, found := e.srv.Service(folder, args[2], args[3])
		if found == neg {
			ts.Fatalf("service %v present: %v", args[1:], found)
		}
		return
	case "sd": // emu sd FILE SIZE: a generated .sd-shaped file
		size, err := strconv.ParseInt(args[2], 10, 64)
		ts.Check(err)
		f, err := os.Create(ts.MkAbs(args[1]))
		ts.Check(err)
		_, err = io.Copy(f, agstest.FakeSD(size))
		ts.Check(err)
		ts.Check(f.Close())
	case "sent": // emu sent PATHSUFFIX PARAM: the value of PARAM in the last such request
		if len(args) != 3 {
			ts.Fatalf("usage: emu sent PATHSUFFIX PARAM")
		}
		reqs := e.srv.Requests()
		for i := len(reqs) - 1; i >= 0; i-- {
			if strings.HasSuffix(reqs[i].Path, args[1]) {
				if neg {
					ts.Fatalf("a request to %s was sent", reqs[i].Path)
				}
				v := reqs[i].Form.Get(args[2])
				if v == "" {
					v = reqs[i].Query.Get(args[2])
				}
				fmt.Fprintln(ts.Stdout(), v)
				return
			}
		}
		if !neg {
			ts.Fatalf("no request to ...%s", args[1])
		}
		return
	case "scheme-wkid": // emu scheme-wkid FOLDER NAME TYPE WKID: the service's cache gets the demo's scheme, in WKID
		if len(args) != 5 {
			ts.Fatalf("usage: emu scheme-wkid FOLDER NAME TYPE WKID")
		}
		wkid, err := strconv.Atoi(args[4])
		ts.Check(err)
		sch := agstest.WebMercatorScheme(19, demoExtent)
		sch.WKID, sch.LatestWKID = wkid, 0
		e.srv.SetTileScheme(args[1], args[2], args[3], sch)
	case "fail-publish":
		e.srv.FailPublish(strings.Join(args[1:], " "))
	case "faults":
		e.srv.SetFaults(agstest.Faults{HTML502Rate: 1})
	case "token":
		resp, err := e.srv.Client().PostForm(e.srv.URL()+"/tokens/generateToken", url.Values{
			"username": {agstest.DefaultUsername}, "password": {agstest.DefaultPassword},
			"client": {"requestip"}, "f": {"json"}})
		ts.Check(err)
		defer resp.Body.Close()
		var tok struct {
			Token string `json:"token"`
		}
		ts.Check(json.NewDecoder(resp.Body).Decode(&tok))
		if tok.Token == "" {
			ts.Fatalf("no token")
		}
		ts.Setenv("AGS_TOKEN", tok.Token)
		ts.Setenv("AGS_TEST_SECRETS", ts.Getenv("AGS_TEST_SECRETS")+","+tok.Token)
	default:
		ts.Fatalf("emu: unknown %q", args[0])
	}
	if neg {
		ts.Fatalf("emu %s does not take !", args[0])
	}
}

// cmdJSON parses the last command's stdout as one JSON document (or, with
// -n, as ndjson: the last line) and checks the value at a dotted path:
//
//	json jobs.0.state succeeded
//	json services   # present
func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	text := ts.ReadFile("stdout")
	if len(args) > 0 && args[0] == "-n" {
		args = args[1:]
		lines := strings.Split(strings.TrimSpace(text), "\n")
		text = lines[len(lines)-1]
	}
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: json [-n] PATH [VALUE]")
	}
	got, ok, err := jsonAt(text, args[0])
	if err != nil {
		ts.Fatalf("%v", err)
	}
	if len(args) == 2 {
		ok = got == args[1]
	}
	if ok == neg {
		ts.Fatalf("json %s: got %q", strings.Join(args, " "), got)
	}
}

// cmdStdoutToEnv sets an environment variable to the last command's
// stdout, trimmed, or to the value at PATH in it (a JSON document):
// stdout2env JOB [jobs.0.job].
func cmdStdoutToEnv(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 || neg {
		ts.Fatalf("usage: stdout2env NAME [PATH]")
	}
	v := strings.TrimSpace(ts.ReadFile("stdout"))
	if len(args) == 2 {
		var ok bool
		var err error
		if v, ok, err = jsonAt(v, args[1]); err != nil || !ok {
			ts.Fatalf("stdout2env: no %s in stdout (%v)", args[1], err)
		}
	}
	ts.Setenv(args[0], v)
}

// jsonAt returns the value at a dotted path ("jobs.0.state") of a JSON
// document: strings as they are, other values as JSON text.
func jsonAt(text, path string) (string, bool, error) {
	var doc any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return "", false, fmt.Errorf("stdout is not one JSON document: %v\n%s", err, text)
	}
	cur := doc
	for _, k := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				cur = nil
			} else {
				cur = c[i]
			}
		default:
			cur = nil
		}
	}
	switch c := cur.(type) {
	case nil:
		return "", false, nil
	case string:
		return c, true, nil
	default:
		b, _ := json.Marshal(c)
		return string(b), true, nil
	}
}

// cmdAgsExit runs ags and checks its exit code: agsexit 4 services get X.
func cmdAgsExit(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || neg {
		ts.Fatalf("usage: agsexit CODE ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec("ags", args[1:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("ags: %v", err)
	}
	if got != want {
		ts.Fatalf("ags %s: exit code %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}
