package agstest

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRestInfo(t *testing.T) {
	t.Parallel()
	srv := start(t)
	r := send(t, srv, http.MethodGet, "/rest/info", url.Values{"f": {"json"}}, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, 11.3, r.body["currentVersion"])
	assert.Equal(t, "11.3.0", r.body["fullVersion"])
	auth := r.obj("authInfo")
	assert.Equal(t, true, auth["isTokenBasedSecurity"])
	assert.Equal(t, srv.URL()+"/tokens/generateToken", auth["tokenServicesUrl"])
	assert.Equal(t, 60.0, auth["shortLivedTokenValidity"])

	open := start(t, WithoutAuth())
	r = send(t, open, http.MethodGet, "/rest/info", url.Values{"f": {"json"}}, nil)
	auth = r.obj("authInfo")
	assert.Equal(t, false, auth["isTokenBasedSecurity"])
	assert.NotContains(t, auth, "tokenServicesUrl")
	// No token needed anywhere.
	r = send(t, open, http.MethodGet, "/admin/services", url.Values{"f": {"json"}}, nil)
	assert.Equal(t, "/", r.body["folderName"])
}

func TestGenerateToken(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithUser("alice", "wonder"), WithUser("bob", "builder"))
	creds := func(user, pass string) url.Values {
		return url.Values{"username": {user}, "password": {pass}, "client": {"requestip"}, "expiration": {"30"}, "f": {"json"}}
	}

	t.Run("rest ok", func(t *testing.T) {
		r := send(t, srv, http.MethodPost, "/tokens/generateToken", creds("alice", "wonder"), nil)
		assert.NotEmpty(t, r.body["token"])
		assert.Equal(t, float64(clock.Now().Add(30*time.Minute).UnixMilli()), r.body["expires"])
		assert.Equal(t, false, r.body["ssl"])
	})
	t.Run("admin ok", func(t *testing.T) {
		r := send(t, srv, http.MethodPost, "/admin/generateToken", creds("bob", "builder"), nil)
		requireShape(t, "admin-token-ok", r.body)
		assert.Equal(t, strconv.FormatInt(clock.Now().Add(30*time.Minute).UnixMilli(), 10), r.body["expires"])
	})
	t.Run("default user replaced", func(t *testing.T) {
		r := send(t, srv, http.MethodPost, "/tokens/generateToken", creds(DefaultUsername, DefaultPassword), nil)
		code, msg, details := restErr(t, r)
		assert.Equal(t, 400, code)
		assert.Equal(t, "Unable to generate token.", msg)
		assert.Equal(t, []string{"Invalid username or password."}, details)
	})
	t.Run("admin wrong password", func(t *testing.T) {
		r := send(t, srv, http.MethodPost, "/admin/generateToken", creds("alice", "nope"), nil)
		code, msgs := adminErr(t, r)
		assert.Equal(t, 400, code)
		assert.Equal(t, []string{"Invalid credentials"}, msgs)
	})
	t.Run("GET refused", func(t *testing.T) {
		r := send(t, srv, http.MethodGet, "/tokens/generateToken", creds("alice", "wonder"), nil)
		assert.Equal(t, http.StatusOK, r.status)
		code, _, details := restErr(t, r)
		assert.Equal(t, 400, code)
		assert.Contains(t, details[0], "GET is disabled")
	})
	t.Run("credentials in query refused", func(t *testing.T) {
		r := send(t, srv, http.MethodPost, "/tokens/generateToken?"+creds("alice", "wonder").Encode(), url.Values{"f": {"json"}}, nil)
		code, _, details := restErr(t, r)
		assert.Equal(t, 400, code)
		assert.Contains(t, details[0], "request body")
	})
	t.Run("requested expiration capped, lifetime option wins", func(t *testing.T) {
		r := send(t, srv, http.MethodPost, "/tokens/generateToken", url.Values{
			"username": {"alice"}, "password": {"wonder"}, "client": {"requestip"}, "expiration": {"99999"},
		}, nil)
		assert.Equal(t, float64(clock.Now().Add(MaxTokenLifetime).UnixMilli()), r.body["expires"])

		fixed := start(t, WithClock(clock.Now), WithTokenLifetime(5*time.Minute))
		r = send(t, fixed, http.MethodPost, "/tokens/generateToken", url.Values{
			"username": {DefaultUsername}, "password": {DefaultPassword}, "client": {"requestip"}, "expiration": {"600"},
		}, nil)
		assert.Equal(t, float64(clock.Now().Add(5*time.Minute).UnixMilli()), r.body["expires"])
	})
}

func TestAuthErrorEnvelopes(t *testing.T) {
	t.Parallel()
	srv := start(t)

	t.Run("rest 499", func(t *testing.T) {
		r := send(t, srv, http.MethodGet, "/rest/services/System/PublishingTools/GPServer/Refresh Service", url.Values{"f": {"json"}}, nil)
		assert.Equal(t, http.StatusOK, r.status)
		requireShape(t, "error-499-token-required", r.body)
		code, msg, _ := restErr(t, r)
		assert.Equal(t, 499, code)
		assert.Equal(t, "Token Required", msg)
	})
	t.Run("admin 499", func(t *testing.T) {
		r := send(t, srv, http.MethodGet, "/admin/services", url.Values{"f": {"json"}}, nil)
		requireShape(t, "admin-error-499", r.body)
		assert.Equal(t, loadFixture(t, "admin-error-499"), any(r.body))
	})
	t.Run("rest 498", func(t *testing.T) {
		r := send(t, srv, http.MethodGet, "/rest/admin/services/X/MapServer/jobs", url.Values{"f": {"json"}},
			http.Header{"X-Esri-Authorization": {"Bearer not-a-token"}})
		requireShape(t, "error-498-invalid-token-mock", r.body)
		code, msg, details := restErr(t, r)
		assert.Equal(t, 498, code)
		assert.Equal(t, "Invalid Token.", msg)
		assert.Equal(t, []string{"Token would have expired, regenerate token and send the request again."}, details)
	})
	t.Run("admin 498", func(t *testing.T) {
		r := send(t, srv, http.MethodGet, "/admin/services", url.Values{"f": {"json"}, "token": {"not-a-token"}}, nil)
		code, msgs := adminErr(t, r)
		assert.Equal(t, 498, code)
		assert.Equal(t, []string{"Token Expired."}, msgs)
	})
}

func TestTokenSources(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)
	path := "/rest/services/System/PublishingTools/GPServer/Refresh Service"
	ok := func(r response) {
		t.Helper()
		assert.Equal(t, "RefreshService", r.body["name"], "%s", r.raw)
	}
	ok(send(t, srv, http.MethodGet, path, url.Values{"f": {"json"}}, http.Header{"X-Esri-Authorization": {"Bearer " + c.token}}))
	ok(send(t, srv, http.MethodGet, path, url.Values{"f": {"json"}}, http.Header{"Authorization": {"Bearer " + c.token}}))
	ok(send(t, srv, http.MethodPost, path, url.Values{"f": {"json"}, "token": {c.token}}, nil))

	srv.ResetRequests()
	ok(send(t, srv, http.MethodGet, path, url.Values{"f": {"json"}, "token": {c.token}}, nil))
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.True(t, reqs[0].TokenInQuery)
	assert.Equal(t, "***", reqs[0].Query.Get("token"))
}

func TestTokenExpiresOnClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := start(t, WithClock(clock.Now), WithTokenLifetime(10*time.Minute))
	c := login(t, srv)

	clock.Advance(10*time.Minute - time.Millisecond)
	r := c.get("/admin/services", nil)
	assert.Equal(t, "/", r.body["folderName"])

	clock.Advance(time.Millisecond)
	r = c.get("/admin/services", nil)
	code, msgs := adminErr(t, r)
	assert.Equal(t, 498, code)
	assert.Equal(t, []string{"Token Expired."}, msgs)

	r = c.get("/rest/services", nil)
	code, _, _ = restErr(t, r)
	assert.Equal(t, 498, code)
}

func TestInvalidateTokens(t *testing.T) {
	t.Parallel()
	srv := start(t)
	a, b := login(t, srv), login(t, srv)
	require.NotEqual(t, a.token, b.token)
	assert.Equal(t, "/", a.get("/admin/services", nil).body["folderName"])

	srv.InvalidateTokens()
	for _, c := range []*client{a, b} {
		code, _, _ := restErr(t, c.get("/rest/services", nil))
		assert.Equal(t, 498, code)
	}
	// A new token works again.
	c := login(t, srv)
	assert.Equal(t, "/", c.get("/admin/services", nil).body["folderName"])
}

func TestRefererBoundToken(t *testing.T) {
	t.Parallel()
	srv := start(t)
	const referer = "https://app.example.com"
	r := send(t, srv, http.MethodPost, "/tokens/generateToken", url.Values{
		"username": {DefaultUsername}, "password": {DefaultPassword},
		"client": {"referer"}, "referer": {referer}, "f": {"json"},
	}, nil)
	tok := r.body["token"].(string)

	c := &client{t: t, srv: srv, token: tok}
	code, msg, details := restErr(t, c.get("/rest/services", nil))
	assert.Equal(t, 498, code)
	assert.Equal(t, "Invalid Token.", msg)
	assert.Equal(t, []string{"If the token is generated based on the referrer make sure the referrer information is available with every request in header."}, details)

	c.referer = "https://other.example.com"
	code, _, _ = restErr(t, c.get("/rest/services", nil))
	assert.Equal(t, 498, code)

	c.referer = referer
	assert.Contains(t, c.get("/rest/services", nil).body, "folders")
	assert.Equal(t, "success", c.post("/admin/services/createFolder", url.Values{"folderName": {"Ref"}}).body["status"])

	// client=referer without a referer is refused.
	r = send(t, srv, http.MethodPost, "/tokens/generateToken", url.Values{
		"username": {DefaultUsername}, "password": {DefaultPassword}, "client": {"referer"},
	}, nil)
	code, _, _ = restErr(t, r)
	assert.Equal(t, 400, code)
}

func TestAdminPostNeedsTokenInBody(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)
	hdr := http.Header{"X-Esri-Authorization": {"Bearer " + c.token}}

	r := send(t, srv, http.MethodPost, "/admin/services/createFolder", url.Values{"folderName": {"A"}, "f": {"json"}}, hdr)
	requireShape(t, "admin-error-499", r.body)
	code, _ := adminErr(t, r)
	assert.Equal(t, 499, code)

	// Token in the query of an admin POST is no better.
	r = send(t, srv, http.MethodPost, "/admin/services/createFolder?token="+c.token, url.Values{"folderName": {"A"}, "f": {"json"}}, nil)
	code, _ = adminErr(t, r)
	assert.Equal(t, 499, code)

	// Admin GETs accept the header.
	assert.Equal(t, "/", send(t, srv, http.MethodGet, "/admin/services", url.Values{"f": {"json"}}, hdr).body["folderName"])

	// The same POST with the token in the body acts.
	r = c.post("/admin/services/createFolder", url.Values{"folderName": {"A"}})
	requireShape(t, "admin-success", r.body)
	assert.Contains(t, c.get("/admin/services", nil).body["folders"], "A")
}

func TestTLSServer(t *testing.T) {
	t.Parallel()
	srv := NewTLSServer()
	defer srv.Close()
	require.Contains(t, srv.URL(), "https://")
	r := send(t, srv, http.MethodPost, "/tokens/generateToken", url.Values{
		"username": {DefaultUsername}, "password": {DefaultPassword}, "client": {"requestip"}, "f": {"json"},
	}, nil)
	assert.Equal(t, true, r.body["ssl"])
	c := &client{t: t, srv: srv, token: r.body["token"].(string)}
	assert.Equal(t, "/", c.get("/admin/services", nil).body["folderName"])
}
