package agstest

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// token is an issued token and what it is bound to.
type token struct {
	user    string
	expires time.Time
	referer string // client=referer: the Referer header every request must carry
	ip      string // client=ip / requestip: the address requests must come from
}

// Auth error texts.
const (
	// Captured on a real server
	// (https://github.com/Esri/arcgis-powershell-dsc/issues/464).
	msgInvalidToken      = "Invalid Token."
	detailTokenExpired   = "Token would have expired, regenerate token and send the request again."
	detailRefererMissing = "If the token is generated based on the referrer make sure the referrer information is available with every request in header."
	// REST envelope 499, captured with HTTP 200
	// (testdata/fixtures/error-499-token-required.json, recorded from
	// https://raw.githubusercontent.com/api-evangelist/southern-california-edison/refs/heads/main/errors/southern-california-edison-error-codes.yml).
	msgTokenRequired = "Token Required"
	// Admin envelope 499, from
	// https://developers.arcgis.com/rest/enterprise-administration/server/operationresponse.htm
	// (testdata/fixtures/admin-error-499.json).
	msgAdminTokenNotFound = "Unauthorized access.Token not found. You can generate a token using the 'generateToken' operation."
	// Admin envelope 498, the body a standalone 11.1 server sent
	// (https://github.com/Esri/arcgis-python-api/issues/1558).
	msgAdminTokenExpired = "Token Expired."
)

// Token-generation failures. The "Unable to generate token." /
// "Invalid username or password." pair is the REST wording; the texts for
// GET and query-string credentials are this emulator's own: the real switch
// (allowHttpGet / allowHttpPostQueryParams, off by default since 10.3,
// https://enterprise.arcgis.com/en/server/latest/administer/windows/enable-token-acquisition-through-an-http-get-request.htm)
// is documented but its error text was not found.
const (
	msgUnableToGenerate   = "Unable to generate token."
	detailBadCredentials  = "Invalid username or password."
	detailGetDisabled     = "Token generation via GET is disabled. Use an HTTP POST request."
	detailQueryCredential = "Credentials must be in the request body of a POST request, not in the URL query."
	msgAdminBadCredential = "Invalid credentials"
)

// handleGenerateToken serves tokens/generateToken (REST envelope, numeric
// expires, https://developers.arcgis.com/rest/services-reference/enterprise/generate-token)
// and admin/generateToken (admin envelope, expires as a string,
// https://developers.arcgis.com/rest/enterprise-administration/server/generatetoken,
// testdata/fixtures/admin-token-ok.json).
func (s *Server) handleGenerateToken(w http.ResponseWriter, r *http.Request, env envelope) {
	fail := func(detail string) {
		if env == envAdmin {
			msg := msgAdminBadCredential
			if detail != detailBadCredentials {
				msg = detail
			}
			adminError(w, r, 400, msg)
			return
		}
		restError(w, r, 400, msgUnableToGenerate, detail)
	}
	if r.Method != http.MethodPost {
		fail(detailGetDisabled)
		return
	}
	q := r.URL.Query()
	if q.Has("username") || q.Has("password") {
		fail(detailQueryCredential)
		return
	}
	username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	want, known := s.users[username]
	if username == "" || !known || want != password {
		fail(detailBadCredentials)
		return
	}

	tok := &token{user: username}
	client := strings.ToLower(r.PostForm.Get("client"))
	referer := r.PostForm.Get("referer")
	if referer == "" {
		referer = r.PostForm.Get("referrer") // the 10.1 spelling
	}
	switch client {
	case "referer", "referrer":
		if referer == "" {
			fail("The referer parameter is required when client is referer.")
			return
		}
		tok.referer = referer
	case "ip":
		ip := r.PostForm.Get("ip")
		if ip == "" {
			fail("The ip parameter is required when client is ip.")
			return
		}
		tok.ip = ip
	case "requestip":
		tok.ip = remoteIP(r)
	case "":
		if referer != "" {
			tok.referer = referer
		} else {
			tok.ip = remoteIP(r)
		}
	default:
		fail("Invalid value for the client parameter: " + client + ".")
		return
	}

	lifetime := DefaultTokenLifetime
	if s.cfg.tokenLifetimeSet {
		lifetime = s.cfg.tokenLifetime
	} else if e := strings.TrimSpace(r.PostForm.Get("expiration")); e != "" {
		if m, err := strconv.Atoi(e); err == nil && m > 0 {
			lifetime = min(time.Duration(m)*time.Minute, MaxTokenLifetime)
		}
	}
	now := s.now()
	tok.expires = now.Add(lifetime)

	s.mu.Lock()
	value := s.newTokenValueLocked()
	s.tokens[value] = tok
	s.mu.Unlock()

	if env == envAdmin {
		writeJSON(w, r, obj{"token": value, "expires": strconv.FormatInt(epochMS(tok.expires), 10)})
		return
	}
	writeJSON(w, r, obj{"token": value, "expires": epochMS(tok.expires), "ssl": r.TLS != nil})
}

// newTokenValueLocked makes a token string in the style of ArcGIS tokens
// (URL-safe letters, digits, '-', '_', '.').
func (s *Server) newTokenValueLocked() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for {
		b := make([]byte, 64)
		for i := range b {
			b[i] = alphabet[s.rnd.IntN(len(alphabet))]
		}
		v := string(b[:32]) + "." + string(b[32:])
		if _, dup := s.tokens[v]; !dup {
			return v
		}
	}
}

// InvalidateTokens makes every token issued so far invalid at once, as a
// site restart or a change of the token shared key does.
func (s *Server) InvalidateTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]*token{}
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func bearer(h string) string {
	const prefix = "bearer "
	if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
		return strings.TrimSpace(h[len(prefix):])
	}
	return ""
}

// requestToken finds the token a request carries. Admin POSTs must carry it
// in the form body ("all POST requests made to the
// Server Administrator API must include a token in the request body",
// https://developers.arcgis.com/rest/enterprise-administration/server/createservice).
// With WithBodyTokensOnly the headers are not read at all.
func requestToken(r *http.Request, env envelope, bodyOnly bool) string {
	if env == envAdmin && r.Method == http.MethodPost {
		return r.PostForm.Get("token")
	}
	if !bodyOnly {
		if t := bearer(r.Header.Get("X-Esri-Authorization")); t != "" {
			return t
		}
		if t := bearer(r.Header.Get("Authorization")); t != "" {
			return t
		}
	}
	if t := r.PostForm.Get("token"); t != "" {
		return t
	}
	return r.URL.Query().Get("token")
}

// authorize checks the request's token and answers 499/498 in the path's
// envelope when it fails.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, env envelope) bool {
	if s.cfg.noAuth {
		return true
	}
	value := requestToken(r, env, s.cfg.bodyTokensOnly)
	if value == "" {
		if env == envAdmin {
			adminError(w, r, 499, msgAdminTokenNotFound)
		} else {
			restError(w, r, 499, msgTokenRequired)
		}
		return false
	}
	now := s.now()
	s.mu.Lock()
	tok, ok := s.tokens[value]
	var t token
	if ok {
		t = *tok
	}
	s.mu.Unlock()

	invalid := func(detail string) bool {
		if env == envAdmin {
			if detail == detailTokenExpired {
				adminError(w, r, 498, msgAdminTokenExpired)
			} else {
				adminError(w, r, 498, msgInvalidToken+" "+detail)
			}
		} else {
			restError(w, r, 498, msgInvalidToken, detail)
		}
		return false
	}
	switch {
	case !ok || !now.Before(t.expires):
		return invalid(detailTokenExpired)
	case t.referer != "" && r.Header.Get("Referer") != t.referer:
		return invalid(detailRefererMissing)
	case t.ip != "" && remoteIP(r) != t.ip:
		return invalid(detailTokenExpired)
	}
	return true
}
