package ags

import "strings"

// JobState is where a server-side job stands, whatever the vocabulary of
// the endpoint that reports it.
type JobState int

// Job states. Only Succeeded, Failed, Cancelled and TimedOut are terminal;
// a status this package does not know is JobUnknown, and waiting goes on.
const (
	JobUnknown   JobState = iota // a status not recognised: not terminal
	JobQueued                    // new, submitted, waiting
	JobRunning                   // executing, in progress, cancelling, deleting
	JobSucceeded                 // done
	JobFailed                    // failed, error, partial error, expected failure
	JobCancelled                 // cancelled or deleted
	JobTimedOut                  // the server timed the job out
)

var jobStateNames = [...]string{"unknown", "queued", "running", "succeeded", "failed", "cancelled", "timed out"}

func (s JobState) String() string {
	if s < 0 || int(s) >= len(jobStateNames) {
		return "unknown"
	}
	return jobStateNames[s]
}

// Terminal reports whether the job has ended.
func (s JobState) Terminal() bool { return s >= JobSucceeded }

// ClassifyGPStatus maps a geoprocessing jobStatus (esriJobSucceeded, ...,
// and the notebook server's expectedFailure) to a JobState, ignoring case.
// https://developers.arcgis.com/rest/services-reference/enterprise/gp-job
func ClassifyGPStatus(status string) JobState {
	s := strings.ToLower(strings.TrimSpace(status))
	switch strings.TrimPrefix(s, "esrijob") {
	case "new", "submitted", "waiting":
		return JobQueued
	case "executing", "cancelling", "canceling", "deleting":
		return JobRunning
	case "succeeded":
		return JobSucceeded
	case "failed", "expectedfailure":
		return JobFailed
	case "cancelled", "canceled", "deleted":
		return JobCancelled
	case "timedout":
		return JobTimedOut
	}
	return JobUnknown
}

// ClassifyTileStatus maps a hosted tile job status (SUBMITTED, INPROGRESS,
// DONE, CANCELED, PARTIALERROR, ERROR, FAILED; any case) to a JobState.
// https://developers.arcgis.com/rest/services-reference/online/job-statistics
func ClassifyTileStatus(status string) JobState {
	s := strings.ToUpper(strings.TrimSpace(status))
	s = strings.NewReplacer("_", "", " ", "", "-", "").Replace(s)
	switch s {
	case "SUBMITTED", "NEW", "WAITING", "QUEUED", "PENDING":
		return JobQueued
	case "INPROGRESS", "PROCESSING", "EXECUTING", "RUNNING", "CANCELING", "CANCELLING":
		return JobRunning
	case "DONE", "SUCCESS", "SUCCEEDED", "COMPLETED":
		return JobSucceeded
	case "PARTIALERROR", "ERROR", "FAILED", "FAILURE":
		return JobFailed
	case "CANCELED", "CANCELLED":
		return JobCancelled
	}
	return JobUnknown
}
