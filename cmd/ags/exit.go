package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/seed9bfd6bbc/ags"
)

// Exit codes. They are stable: schedulers (a Kubernetes podFailurePolicy, a
// CI step) act on them. See exitCodesHelp.
const (
	exitOK      = 0 // success
	exitFailed  = 1 // the operation or the job failed
	exitUsage   = 2 // usage or invalid input, found before any request
	exitAuth    = 3 // authentication failed (or the user lacks the privilege)
	exitMissing = 4 // not found
	exitRetry   = 5 // outcome unknown or transient: safe to retry later
	exitPartial = 6 // partial success
)

const exitCodesHelp = `ags exits with one of these codes:

  0  success
  1  the operation or the job failed (the server said so)
  2  usage or invalid input, found before any request was sent
     (also a profile file that holds a password but is not mode 0600)
  3  authentication failed: a wrong password or token, or a user without the
     privilege for the operation
  4  not found: the service, folder or job does not exist
  5  outcome unknown or transient, safe to retry later: the server was
     unreachable or busy, an answer could not be read or was lost,
     --timeout ran out, the wait was interrupted (the job may still be
     running: re-attach with the job reference ags printed). After a lost
     answer to 'gp submit', the error says where to look for the job
     before submitting again.
  6  partial success: a tile job ended PARTIALERROR, or some of several
     services (or sites) failed while others succeeded

With several sites (--profile a,b,c), ags exits with the worst code of all
sites, in this order from worst: 2, 3, 4, 1, 5, 6, 0.
`

// exitError carries an exit code and whether its message was already printed.
type exitError struct {
	code    int
	err     error
	printed bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErr is invalid input found before any request: exit code 2.
func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode maps an error to the exit code documented in exitCodesHelp.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ve *ags.ValidationError
	if errors.As(err, &ve) {
		return exitUsage
	}
	var je *ags.JobError
	if errors.As(err, &je) {
		// PARTIALERROR: some of a tile job's tasks failed, the others ran
		// (https://developers.arcgis.com/rest/services-reference/online/job-statistics).
		if strings.EqualFold(je.Status, "PARTIALERROR") {
			return exitPartial
		}
		return exitFailed
	}
	switch {
	case errors.Is(err, ags.ErrBadCredentials),
		errors.Is(err, ags.ErrInvalidToken), errors.Is(err, ags.ErrTokenRequired),
		errors.Is(err, ags.ErrUnauthorized), errors.Is(err, ags.ErrForbidden):
		return exitAuth
	case errors.Is(err, ags.ErrNotFound):
		return exitMissing
	case errors.Is(err, ags.ErrOutcomeUnknown), errors.Is(err, ags.ErrServerBusy),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return exitRetry
	}
	var re *ags.RequestError
	var rse *ags.ResponseError
	if errors.As(err, &re) || errors.As(err, &rse) {
		return exitRetry
	}
	return exitFailed
}

// severity orders exit codes from best (0) to worst, for several sites.
func severity(code int) int {
	switch code {
	case exitOK:
		return 0
	case exitPartial:
		return 1
	case exitRetry:
		return 2
	case exitFailed:
		return 3
	case exitMissing:
		return 4
	case exitAuth:
		return 5
	default: // exitUsage and anything unexpected
		return 6
	}
}

// worst returns the worst of several exit codes (several sites).
func worst(codes []int) int {
	w := exitOK
	for _, c := range codes {
		if severity(c) > severity(w) {
			w = c
		}
	}
	return w
}

// combine returns the exit code of one command on several services: 0 if
// all succeeded, 6 if some did and some did not, else the worst.
func combine(codes []int) int {
	w := worst(codes)
	for _, c := range codes {
		if c == exitOK && w != exitOK {
			return exitPartial
		}
	}
	return w
}
