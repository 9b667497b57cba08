package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The Kubernetes manifests under deploy/kubernetes must keep working with
// this CLI: each container's args are run through ags's own parser (a dry
// run that stops where it would connect), with the files its ConfigMap
// volumes would mount, and the Jobs carry the settings a scheduled ags
// needs (a retry budget, a deadline, no overlapping runs, exit codes mapped
// by a podFailurePolicy, credentials from a Secret).
func TestKubernetesManifests(t *testing.T) {
	files, err := filepath.Glob("../../deploy/kubernetes/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	containers := 0
	for _, file := range files {
		docs := readYAMLDocs(t, file)
		configMaps := map[string]map[string]any{}
		for _, d := range docs {
			if d["kind"] == "ConfigMap" {
				configMaps[str(get(d, "metadata", "name"))] = asMap(d["data"])
			}
		}
		for _, d := range docs {
			var jobSpec map[string]any
			switch d["kind"] {
			case "CronJob":
				assert.Equal(t, "Forbid", get(d, "spec", "concurrencyPolicy"), file)
				jobSpec = asMap(get(d, "spec", "jobTemplate", "spec"))
			case "Job":
				jobSpec = asMap(d["spec"])
			case "ConfigMap":
				continue
			default:
				t.Errorf("%s: unexpected kind %v", file, d["kind"])
				continue
			}
			name := file + ": " + str(get(d, "metadata", "name"))
			assert.NotNil(t, jobSpec["backoffLimit"], name)
			assert.NotNil(t, jobSpec["activeDeadlineSeconds"], name)
			checkFailurePolicy(t, name, asMap(jobSpec["podFailurePolicy"]))
			pod := asMap(get(jobSpec, "template", "spec"))
			assert.Equal(t, "Never", pod["restartPolicy"], name)
			assert.Equal(t, true, get(pod, "securityContext", "runAsNonRoot"), name)
			volumes := map[string]string{} // volume name -> ConfigMap name
			for _, v := range asList(pod["volumes"]) {
				if cm := str(get(asMap(v), "configMap", "name")); cm != "" {
					volumes[str(asMap(v)["name"])] = cm
				}
			}
			for _, c := range append(asList(pod["initContainers"]), asList(pod["containers"])...) {
				c := asMap(c)
				cname := name + "/" + str(c["name"])
				containers++
				assert.Nil(t, c["command"], "%s: the image's entrypoint is ags; give args only", cname)
				checkSecretEnv(t, cname, c)
				args := toStrings(asList(c["args"]))
				args = mountConfigMaps(t, cname, c, volumes, configMaps, args)
				a := newApp(strings.NewReader(""), io.Discard, &bytes.Buffer{}, func(string) string { return "" })
				a.dryRun = true
				var stderr bytes.Buffer
				a.stderr = &stderr
				assert.Equal(t, exitOK, a.run(context.Background(), args), "%s: ags %s\n%s", cname, strings.Join(args, " "), stderr.String())
			}
		}
	}
	assert.GreaterOrEqual(t, containers, 3)
}

// The dry run really stops bad args: the same check fails on a typo.
func TestDryRunRejectsBadArgs(t *testing.T) {
	for _, args := range [][]string{
		{"tiles", "update", "Hosted/Basemap.MapServer", "--levels", "10-16"},
		{"refresh", "Imagery/Portland.ImageServer", "--wiat"},
		{"refresh"},
		{"services", "create", "-f", "/nonexistent/roads.json"},
	} {
		a := newApp(strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
		a.dryRun = true
		assert.Equal(t, exitUsage, a.run(context.Background(), args), args)
	}
}

func checkFailurePolicy(t *testing.T, name string, pfp map[string]any) {
	t.Helper()
	actions := map[int]string{}
	for _, r := range asList(pfp["rules"]) {
		r := asMap(r)
		on := asMap(r["onExitCodes"])
		if on == nil {
			continue
		}
		require.Equal(t, "In", on["operator"], name)
		for _, v := range asList(on["values"]) {
			code := v.(int)
			if prev, ok := actions[code]; ok && prev != r["action"] {
				t.Errorf("%s: exit code %d mapped to %s and %s", name, code, prev, r["action"])
			}
			actions[code] = str(r["action"])
		}
	}
	assert.Equal(t, "Count", actions[exitRetry], "%s: exit code 5 (transient) must be retried", name)
	for _, code := range []int{exitFailed, exitUsage, exitAuth, exitMissing} {
		assert.Equal(t, "FailJob", actions[code], "%s: exit code %d must fail the Job", name, code)
	}
}

// checkSecretEnv: credentials come from a Secret, never a literal.
func checkSecretEnv(t *testing.T, name string, c map[string]any) {
	t.Helper()
	fromSecret := false
	for _, e := range asList(c["envFrom"]) {
		if get(asMap(e), "secretRef", "name") != nil {
			fromSecret = true
		}
	}
	for _, e := range asList(c["env"]) {
		e := asMap(e)
		if n := str(e["name"]); n == "AGS_PASSWORD" || n == "AGS_TOKEN" {
			assert.Nil(t, e["value"], "%s: %s as a literal", name, n)
			if get(e, "valueFrom", "secretKeyRef") != nil {
				fromSecret = true
			}
		}
	}
	assert.True(t, fromSecret, "%s: credentials must come from a Secret", name)
}

// mountConfigMaps writes the ConfigMap files a container mounts into a
// temporary directory and points the args at them.
func mountConfigMaps(t *testing.T, name string, c map[string]any, volumes map[string]string, cms map[string]map[string]any, args []string) []string {
	for _, m := range asList(c["volumeMounts"]) {
		m := asMap(m)
		cm, ok := volumes[str(m["name"])]
		if !ok {
			continue
		}
		data, ok := cms[cm]
		require.True(t, ok, "%s: ConfigMap %s is not in the same file", name, cm)
		dir := t.TempDir()
		for k, v := range data {
			require.NoError(t, os.WriteFile(filepath.Join(dir, k), []byte(str(v)), 0o600))
		}
		mount := strings.TrimSuffix(str(m["mountPath"]), "/") + "/"
		for i, a := range args {
			if strings.HasPrefix(a, mount) {
				args[i] = filepath.Join(dir, strings.TrimPrefix(a, mount))
			}
		}
	}
	return args
}

func readYAMLDocs(t *testing.T, file string) []map[string]any {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		require.NoError(t, err, file)
		if d != nil {
			docs = append(docs, d)
		}
	}
}

func get(m map[string]any, path ...string) any {
	var cur any = m
	for _, k := range path {
		mm := asMap(cur)
		if mm == nil {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asList(v any) []any         { l, _ := v.([]any); return l }
func str(v any) string           { s, _ := v.(string); return s }

func toStrings(l []any) []string {
	out := make([]string, len(l))
	for i, v := range l {
		s, ok := v.(string)
		if !ok {
			panic("args must be strings")
		}
		out[i] = s
	}
	return out
}

// The image the manifests run is static, non-root, and starts ags.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	d := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/ags", "FROM gcr.io/distroless/static", "USER nonroot", `ENTRYPOINT ["/usr/local/bin/ags"]`} {
		assert.Contains(t, d, want)
	}
}
