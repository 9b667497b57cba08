package ags

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/seed9bfd6bbc/ags/internal/transport"
)

// ErrOutcomeUnknown matches (errors.Is) an *OutcomeUnknownError: a call
// that changes the server lost its answer, and whether the change happened
// could not be settled. Find out (the error says how) before sending the
// call again.
var ErrOutcomeUnknown = errors.New("outcome unknown")

// OutcomeUnknownError is a write whose answer was lost (a gateway's 502, a
// dropped connection, an unreadable answer) after the server may have
// acted, and whose outcome the client could not settle by reading back.
// It matches ErrOutcomeUnknown and wraps the failure (errors.As into a
// *ResponseError or *RequestError still works).
type OutcomeUnknownError struct {
	Op     string // the operation, e.g. "createService" or "Refresh Service: submitJob"
	Target string // what it acted on, e.g. "service Maps/Roads.MapServer"
	Hint   string // how to find out what happened
	Err    error  // why the outcome is unknown: the lost answer, and the failed read-back if any
}

func (e *OutcomeUnknownError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Target != "" {
		b.WriteString(" ")
		b.WriteString(e.Target)
	}
	b.WriteString(": outcome unknown (the server may or may not have acted)")
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Is matches ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// unsentError is a failure before the request was sent (getting a token
// failed): whatever it wraps, the server cannot have acted.
type unsentError struct{ err error }

func (e *unsentError) Error() string { return e.err.Error() }
func (e *unsentError) Unwrap() error { return e.err }

// ambiguous reports whether err leaves open whether the server acted on a
// write: the request went out and no answer we could read came back (a
// dropped connection, a gateway's 5xx page, a truncated or unreadable
// answer, a redirect not followed). A refusal in the server's own words, a
// request that never left (connection refused) and a done context are
// not ambiguous.
func ambiguous(err error) bool {
	if err == nil || isContextErr(err) {
		return false
	}
	var unsent *unsentError
	if errors.As(err, &unsent) {
		return false
	}
	var re *RequestError
	if errors.As(err, &re) {
		return !transport.NotSent(re.Err) && !transport.CertError(re.Err)
	}
	var rse *ResponseError
	if errors.As(err, &rse) {
		return rse.HTTPStatus >= 500 || rse.HTTPStatus < 300
	}
	return false
}

// settle decides a write whose answer was lost (first, ambiguous): it reads
// back whether the write took effect (check). Done: the call succeeded,
// which a debug line records. Not done: the write is sent once more
// (resend), and a lost answer again is settled the same way. The read
// failing too: an *OutcomeUnknownError naming target. Nothing is ever sent
// twice once it has taken effect.
func (c *Client) settle(ctx context.Context, op, target, hint string, first error,
	check func(context.Context) (bool, error), resend func(context.Context) error) error {
	err := first
	for sent := 1; ; sent++ {
		done, rerr := check(ctx)
		if rerr != nil {
			return &OutcomeUnknownError{Op: op, Target: target, Hint: hint,
				Err: fmt.Errorf("%w; reading back failed too: %w", err, rerr)}
		}
		if done {
			if c.logger != nil {
				c.logger.Debug("ags: lost answer settled by reading back: the call took effect",
					"op", op, "target", target, "sends", sent)
			}
			return nil
		}
		if sent == 2 {
			// Sent twice, read back twice, and not done: the server did not
			// act, so the last failure is the answer.
			return err
		}
		if c.logger != nil {
			c.logger.Debug("ags: lost answer settled by reading back: the call did not take effect; sending it once more",
				"op", op, "target", target)
		}
		if err = resend(ctx); !ambiguous(err) {
			return err
		}
	}
}

// gpJobsHint says how to find a GP job whose submit lost its answer: the
// admin API lists a GP service's jobs [I] (REST-REFERENCE §4.2.7 documents
// admin/services/<folder>/<svc>.GPServer/jobs/<jobID>/delete).
func gpJobsHint(task string) string {
	svc, _, ok := strings.Cut(task, "/GPServer/")
	if !ok {
		return "look for the job among the task's jobs before submitting again"
	}
	return "look for the job in admin/services/" + svc + ".GPServer/jobs before submitting again"
}

// outcomeUnknown wraps an ambiguous failure of an at-most-once call (a GP
// submit, updateTiles) in an *OutcomeUnknownError; other errors pass as
// they are.
func outcomeUnknown(err error, op, target, hint string) error {
	if !ambiguous(err) {
		return err
	}
	return &OutcomeUnknownError{Op: op, Target: target, Hint: hint, Err: err}
}

// createSettled is Create's send plus the settling of a lost answer.
func (s *ServicesService) createSettled(ctx context.Context, folder string, def ServiceDefinition, send func(context.Context) error) error {
	err := send(ctx)
	if !ambiguous(err) {
		return err
	}
	ref := ServiceRef{Folder: normFolder(folder), Name: def.ServiceName, Type: def.Type}
	check := func(ctx context.Context) (bool, error) {
		got, err := s.Get(ctx, ref)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return strings.EqualFold(got.ServiceName, def.ServiceName) && strings.EqualFold(string(got.Type), string(def.Type)), nil
	}
	return s.client.settle(ctx, string(opCreateService), "service "+ref.String(),
		"check with Services.Get before creating it again", err, check, send)
}

// deleteSettled is Delete's send plus the settling of a lost answer.
func (s *ServicesService) deleteSettled(ctx context.Context, ref ServiceRef, send func(context.Context) error) error {
	err := send(ctx)
	if !ambiguous(err) {
		return err
	}
	check := func(ctx context.Context) (bool, error) {
		_, err := s.Get(ctx, ref)
		if errors.Is(err, ErrNotFound) {
			return true, nil
		}
		return false, err
	}
	return s.client.settle(ctx, string(opDelete), "service "+ref.String(),
		"check with Services.Get before deleting it again", err, check, send)
}

// createFolderSettled is CreateFolder's send plus the settling of a lost answer.
func (s *ServicesService) createFolderSettled(ctx context.Context, name string, send func(context.Context) error) error {
	err := send(ctx)
	if !ambiguous(err) {
		return err
	}
	check := func(ctx context.Context) (bool, error) {
		root, err := s.List(ctx, "")
		if err != nil {
			return false, err
		}
		for _, f := range root.Folders {
			if strings.EqualFold(f, name) {
				return true, nil
			}
		}
		return false, nil
	}
	return s.client.settle(ctx, string(opCreateFolder), "folder "+name,
		"check with Services.List before creating it again", err, check, send)
}
