package agstest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/seed9bfd6bbc/ags/agstest"
)

// Start a server, get a token and publish a service through the admin API.
func ExampleNewServer() {
	srv := agstest.NewServer()
	defer srv.Close()
	hc := srv.Client()

	// Credentials go in a POST body.
	resp, err := hc.PostForm(srv.URL()+"/tokens/generateToken", url.Values{
		"username": {agstest.DefaultUsername},
		"password": {agstest.DefaultPassword},
		"client":   {"referer"},
		"referer":  {"https://my.app"},
		"f":        {"json"},
	})
	if err != nil {
		panic(err)
	}
	var tok struct {
		Token   string `json:"token"`
		Expires int64  `json:"expires"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	// Admin POSTs carry the token in the body; a referer-bound token also
	// needs the matching Referer header.
	form := url.Values{
		"service": {`{"serviceName":"Roads","type":"MapServer","capabilities":"Map,Query"}`},
		"token":   {tok.Token},
		"f":       {"json"},
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/admin/services/createService", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", "https://my.app")
	resp, err = hc.Do(req)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	fmt.Println(out["status"])

	def, ok := srv.Service("", "Roads", "MapServer")
	fmt.Println(ok, def["capabilities"], def["configuredState"])
	fmt.Println(srv.Count("/createService"), srv.Requests()[1].Form.Get("token"))
	// Output:
	// success
	// true Map,Query STARTED
	// 1 ***
}
