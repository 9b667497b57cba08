package ags

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Op: "createService", Code: 500, Message: "Failed to create the service.", Details: []string{"Service 'Roads' already exists."},
			URL: "https://gis.example.com/arcgis/admin/services/createService"},
			"createService: Failed to create the service. (Service 'Roads' already exists.) [code 500] at https://gis.example.com/arcgis/admin/services/createService"},
		{&Error{Op: "updateTiles", Code: 400, Details: []string{"Invalid extent."}},
			"updateTiles: Invalid extent. [code 400]"},
		{&Error{Op: "x", Code: 400, Details: []string{"a", " ", "b"}},
			"x: a (b) [code 400]"},
		{&Error{Op: "x", Code: 499, MessageCode: "GWM_0003", Message: "Token Required", Details: []string{"Token Required"}},
			"x: Token Required [code 499 GWM_0003]"},
		{&Error{Op: "x"}, "x: server reported an error"},
		{&Error{Message: "m"}, "m"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
}

func TestErrorIs(t *testing.T) {
	sentinels := []*Error{ErrInvalidToken, ErrTokenRequired, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrServiceExists, ErrFolderExists, ErrServerBusy}
	tests := []struct {
		name string
		err  error
		is   []*Error
	}{
		{"498", &Error{Code: 498}, []*Error{ErrInvalidToken}},
		{"498 by HTTP status", &Error{HTTPStatus: 498}, []*Error{ErrInvalidToken}},
		{"499", &Error{Code: 499}, []*Error{ErrTokenRequired}},
		{"GWM_0003 without 499", &Error{Code: 401, MessageCode: "gwm_0003"}, []*Error{ErrTokenRequired, ErrUnauthorized}},
		{"401", &Error{HTTPStatus: 401}, []*Error{ErrUnauthorized}},
		{"403", &Error{Code: 403, HTTPStatus: 200}, []*Error{ErrForbidden}},
		{"404", &Error{Code: 404}, []*Error{ErrNotFound}},
		{"body code wins over status", &Error{Code: 500, HTTPStatus: 404}, nil},
		{"exists", &Error{Code: 500, op: opCreateService, Message: "Service 'Roads.MapServer' already exists"}, []*Error{ErrServiceExists}},
		{"folder exists", &Error{Code: 400, op: opCreateFolder, Message: "Folder 'Transport' already exists."}, []*Error{ErrFolderExists}},
		// "already exists" counts only on the create operations, whatever
		// the error's Op text says.
		{"exists on canCreateService", &Error{Code: 500, op: opCanCreateService, Message: "Service 'Roads.MapServer' already exists"}, nil},
		{"exists on edit", &Error{Code: 500, op: opEdit, Op: "createService", Message: "Service 'Roads.MapServer' already exists"}, nil},
		{"exists on submitJob", &Error{Code: 500, op: opSubmitJob, Message: "ERROR 003308: The service already exists."}, nil},
		{"exists, Op text only", &Error{Code: 500, Op: "createService", Message: "Service 'Roads.MapServer' already exists"}, nil},
		{"folder exists on createService", &Error{Code: 400, op: opCreateService, Message: "Folder 'Transport' already exists."}, []*Error{ErrServiceExists}},
		// The services directory answers a missing service with code 500
		// (REST-REFERENCE §7.1); a stopped one, or any other 500, is not
		// "not found".
		{"500 service not found", &Error{Code: 500, Message: "Service FGP/RainbowSmelt_Eperlan_LarvalRetentionArea/MapServer not found "}, []*Error{ErrNotFound}},
		{"500 service not started", &Error{Code: 500, Message: "Service ArcMap_IMS/MapServer not started "}, nil},
		{"500 other", &Error{Code: 500, Message: "Unable to complete operation.", Details: []string{"Service not found in cache"}}, nil},
		{"400 service not found", &Error{Code: 400, Message: "Service X/MapServer not found "}, nil},
		{"admin 404", &Error{Code: 404, Details: []string{"Could not find resource or operation 'BZK1.MapServer' on the system."}}, []*Error{ErrNotFound}},
		{"busy", &Error{Code: 500, Details: []string{"Another administrative operation is currently accessing the store. Please try again later."}},
			[]*Error{ErrServerBusy}},
		{"configuring", &Error{Message: "ArcGIS Server Site currently being configured by another administrative operation: Please try Again Later."},
			[]*Error{ErrServerBusy}},
		{"wrapped", fmt.Errorf("outer: %w", &Error{Code: 404}), []*Error{ErrNotFound}},
		{"HTML 404 page", &ResponseError{HTTPStatus: 404, Reason: "not JSON"}, []*Error{ErrNotFound}},
		{"HTML 403 page", &ResponseError{HTTPStatus: 403}, []*Error{ErrForbidden}},
		{"HTML 200 page", &ResponseError{HTTPStatus: 200}, nil},
		{"validation", &ValidationError{Field: "f"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range sentinels {
				want := false
				for _, w := range tt.is {
					want = want || w == s
				}
				assert.Equal(t, want, errors.Is(tt.err, s), "errors.Is(%s, %q)", tt.name, s.Message)
			}
		})
	}
	// A plain *Error is no sentinel: nothing matches it but itself.
	e := &Error{Code: 404}
	assert.False(t, errors.Is(&Error{Code: 404}, e))
	assert.True(t, errors.Is(e, e))
	assert.True(t, errors.Is(ErrNotFound, ErrNotFound))
	assert.False(t, errors.Is(ErrNotFound, ErrForbidden))
}

func TestErrorAs(t *testing.T) {
	var err error = fmt.Errorf("op: %w", &Error{Code: 403, Message: "no", Details: []string{"d"}})
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []string{"d"}, apiErr.Details)
}

func TestResponseErrorString(t *testing.T) {
	e := &ResponseError{Op: "GET rest/info", URL: "https://h/arcgis/rest/info", HTTPStatus: 502, ContentType: "text/html",
		Snippet: "<h1>Bad Gateway</h1>", Reason: "not JSON"}
	assert.Equal(t, `GET rest/info: unexpected response: not JSON (HTTP 502, text/html): "<h1>Bad Gateway</h1>" at https://h/arcgis/rest/info`, e.Error())
	inner := errors.New("invalid JSON at byte 3")
	e = &ResponseError{Op: "x", HTTPStatus: 200, Reason: "malformed JSON", Err: inner}
	assert.Equal(t, "x: unexpected response: malformed JSON (HTTP 200): invalid JSON at byte 3", e.Error())
	assert.ErrorIs(t, e, inner)
}

func TestValidationError(t *testing.T) {
	assert.Equal(t, "invalid levels[2]: must be 0..23, got 40", invalid("levels[2]", "must be 0..23, got %d", 40).Error())
	assert.Equal(t, "invalid input: empty", (&ValidationError{Reason: "empty"}).Error())
	var ve *ValidationError
	assert.ErrorAs(t, fmt.Errorf("w: %w", invalid("a", "b")), &ve)
}

// TestRequestErrorHasNoQuery: a transport failure names the operation and
// the URL without its query, and unwraps to the cause.
func TestRequestErrorHasNoQuery(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	c, err := NewClient("http://"+addr+"/arcgis", WithToken(testToken), WithInsecureHTTP(),
		WithRetryPolicy(RetryPolicy{MaxRetries: 1, MinDelay: 1, MaxDelay: 1}))
	require.NoError(t, err)
	err = c.Get(t.Context(), "rest/services/Maps/MapServer", map[string]any{"where": "secretvalue=1"}, nil)
	var re *RequestError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "http://"+addr+"/arcgis/rest/services/Maps/MapServer", re.URL)
	assert.True(t, strings.HasPrefix(err.Error(), "GET rest/services/Maps/MapServer: http://"+addr+"/arcgis/rest/services/Maps/MapServer: "), err.Error())
	assert.NotContains(t, err.Error(), "?")
	assert.NotContains(t, err.Error(), "secretvalue")
	assert.NotContains(t, err.Error(), "f=json")
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr, "the cause is kept")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = c.Get(ctx, "rest/info", nil, nil)
	assert.ErrorIs(t, err, context.Canceled)
	require.ErrorAs(t, err, &re)
	assert.NotContains(t, err.Error(), "?")
}

func TestErrorURLHasNoQuery(t *testing.T) {
	c, mux, site := setup(t)
	mux.HandleFunc("/arcgis/rest/services/x", serveRaw(http.StatusOK, "application/json", `{"error":{"code":400,"message":"bad"}}`))
	err := c.Get(t.Context(), "rest/services/x", map[string]any{"where": "1=1"}, nil)
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, site+"/rest/services/x", apiErr.URL)
	assert.NotContains(t, err.Error(), "where")
}

// TestNotFoundClassifiedBeforeMasking: the services directory's code-500
// "not found" is recognised on the server's own words, even when masking
// a token that is a word of them changes what the error shows.
func TestNotFoundClassifiedBeforeMasking(t *testing.T) {
	c, mux, _ := setupNoAuth(t, WithToken("found"))
	mux.HandleFunc("/arcgis/rest/services/x", serveFixture(t, "rest-error-500-service-not-found.json"))
	err := c.Get(t.Context(), "rest/services/x", nil, nil)
	require.ErrorIs(t, err, ErrNotFound)
	assert.NotContains(t, err.Error(), " found", "the token is masked in what is shown")
}
