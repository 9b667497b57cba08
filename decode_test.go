package ags

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Wire shapes of the fixtures, declared here so that this test depends on
// nothing but the pipeline.
type (
	fxStatus struct {
		Status   string   `json:"status"`
		Messages []string `json:"messages"`
	}
	fxServiceStatus struct {
		ConfiguredState string `json:"configuredState"`
		RealTimeState   string `json:"realTimeState"`
	}
	fxServices struct {
		Services []struct {
			FolderName  string      `json:"folderName"`
			ServiceName string      `json:"serviceName"`
			Type        ServiceType `json:"type"`
		} `json:"services"`
	}
	fxJob struct {
		JobID     string       `json:"jobId"`
		JobStatus string       `json:"jobStatus"`
		Messages  []JobMessage `json:"messages"`
		Results   map[string]struct {
			ParamURL string `json:"paramUrl"`
		} `json:"results"`
	}
	fxParam struct {
		ParamName string          `json:"paramName"`
		DataType  string          `json:"dataType"`
		Value     json.RawMessage `json:"value"`
	}
	fxTask struct {
		Name          string `json:"name"`
		DisplayName   string `json:"displayName"`
		ExecutionType string `json:"executionType"`
		Parameters    []struct {
			Name          string `json:"name"`
			ParameterType string `json:"parameterType"`
		} `json:"parameters"`
	}
	fxJobStatistics struct {
		Total     Int `json:"total"`
		Cancelled Int `json:"cancelled"`
		Failed    Int `json:"failed"`
		Succeeded Int `json:"succeeded"`
	}
	fxGPService struct {
		CurrentVersion float64  `json:"currentVersion"`
		Tasks          []string `json:"tasks"`
		ExecutionType  string   `json:"executionType"`
	}
	fxUpdateTiles struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Status  string `json:"status"`
		ItemID  string `json:"itemId"`
		Type    string `json:"type"`
		JobID   string `json:"jobId"`
		Message string `json:"message"`
	}
)

// wantErr is the expected *Error of a fixture.
type wantErr struct {
	code        int
	messageCode string
	message     string
	details     []string
	is          []error // sentinels errors.Is must match
	isNot       []error // sentinels it must not match
}

// TestDecodeFixtures decodes every recorded response in testdata/fixtures
// through the whole pipeline (served with HTTP 200, as ArcGIS does) and
// checks its outcome: the decoded value, or the *Error with its code,
// sentinel, message and details.
func TestDecodeFixtures(t *testing.T) {
	authErrs := []error{ErrInvalidToken, ErrTokenRequired}
	tests := []struct {
		file string
		out  func() any // a fresh value to decode into
		want any        // the decoded value, when the fixture is a success
		err  *wantErr
	}{
		{file: "admin-token-ok.json", out: func() any { return &tokenResponse{} },
			want: &tokenResponse{Token: "sakjfh97325437hskfsdfd_sdkjfsjf1283763339564921734sdfbdsj",
				Expires: Time{time.UnixMilli(13472658353687)}}},
		{file: "admin-delete-job-error.json", out: func() any { return &fxStatus{} },
			err: &wantErr{code: 400, message: "Unable to delete job :[<jobID>]", isNot: authErrs}},
		{file: "admin-error-499.json", out: func() any { return &fxStatus{} },
			err: &wantErr{code: 499, message: "Unauthorized access.Token not found. You can generate a token using the 'generateToken' operation.",
				is: []error{ErrTokenRequired}, isNot: []error{ErrInvalidToken, ErrForbidden}}},
		{file: "admin-error-createsite-500.json", out: func() any { return &fxStatus{} },
			err: &wantErr{code: 500, message: "A JSONObject text must begin with '{' at character 1 of None", isNot: authErrs}},
		{file: "admin-service-status.json", out: func() any { return &fxServiceStatus{} },
			want: &fxServiceStatus{ConfiguredState: "STARTED", RealTimeState: "STARTED"}},
		{file: "admin-startservices-ok.json", out: func() any { return &fxServices{} },
			want: func() any {
				v := &fxServices{}
				v.Services = append(v.Services, struct {
					FolderName  string      `json:"folderName"`
					ServiceName string      `json:"serviceName"`
					Type        ServiceType `json:"type"`
				}{"", "SampleWorldCities", MapServer}, struct {
					FolderName  string      `json:"folderName"`
					ServiceName string      `json:"serviceName"`
					Type        ServiceType `json:"type"`
				}{"Planning", "FireHydrants", FeatureServer})
				return v
			}()},
		{file: "admin-success.json", out: func() any { return &fxStatus{} }, want: &fxStatus{Status: "success"}},
		{file: "admin-uploads-commit-ok-doc.json", out: func() any { return &fxStatus{} }, want: &fxStatus{Status: "success"}},
		{file: "admin-uploads-item-doc-10.1.json", out: func() any { return &UploadItem{} },
			want: &UploadItem{ItemID: "if4582d33-f10a-41fe-85bc-cf2e2880c46e", ItemName: "JavaDeleteFeatures.sd",
				PathOnServer: `c:\arcgisserver\directories\arcgissystem\arcgisuploads\if4582d33-f10a-41fe-85bc-cf2e2880c46e`,
				Date:         time.Date(2011, 6, 13, 12, 59, 59, 0, time.FixedZone("PDT", -7*3600)),
				DateText:     "Mon Jun 13 12:59:59 PDT 2011", Committed: true}},
		{file: "admin-uploads-item-k8s-doc.json", out: func() any { return &UploadItem{} },
			want: &UploadItem{ItemID: "3aecbde2-d8aa-46d5-9653-26e9695062a4", ItemName: "FireWeatherWatch.kmz",
				Date: time.UnixMilli(1597190283335), DateText: "1597190283335", Committed: true, ContentType: "application/octet-stream"}},
		{file: "admin-uploads-upload-ok-doc.json", out: func() any { return &uploadAnswer{} },
			want: &uploadAnswer{Item: &UploadItem{ItemID: "if4582d33-f10a-41fe-85bc-cf2e2880c46e", bare: true}}},
		{file: "error-403-no-permission-mock.json", out: func() any { return &fxStatus{} },
			err: &wantErr{code: 403, message: "You do not have permissions to access this resource or perform this operation.",
				is: []error{ErrForbidden}, isNot: append(authErrs, ErrNotFound)}},
		{file: "error-498-invalid-token-mock.json", out: func() any { return &fxStatus{} },
			err: &wantErr{code: 498, message: "Invalid token.", is: []error{ErrInvalidToken}, isNot: []error{ErrTokenRequired}}},
		{file: "token-error-400-invalid-credentials-mock.json", out: func() any { return &fxStatus{} },
			err: &wantErr{code: 400, message: "Unable to generate token.", details: []string{"Invalid username or password."}, is: []error{ErrBadCredentials},
				isNot: append(authErrs, ErrServerBusy, ErrNotFound)}},
		{file: "error-499-token-required.json", out: func() any { return &fxStatus{} },
			err: &wantErr{code: 499, message: "Token Required", is: []error{ErrTokenRequired}, isNot: []error{ErrInvalidToken}}},
		{file: "error-499-token-required-gwm0003-mock.json", out: func() any { return &fxStatus{} },
			err: &wantErr{code: 499, messageCode: "GWM_0003", message: "Token Required", details: []string{"Token Required"},
				is: []error{ErrTokenRequired}, isNot: []error{ErrInvalidToken}}},
		{file: "gp-job-cancelled-with-messages-mock.json", out: func() any { return &fxJob{} },
			want: &fxJob{JobID: "j4fa1db2338f042a19eb68856afabc27e", JobStatus: "esriJobCancelled", Messages: []JobMessage{
				{Type: "esriJobMessageTypeInformative", Description: "Submitted."},
				{Type: "esriJobMessageTypeInformative", Description: "Cancel complete."}}}},
		{file: "gp-job-cancelled.json", out: func() any { return &fxJob{} },
			want: &fxJob{JobID: "JE30155054C2C416EA3CF6C88A40B94FF", JobStatus: "esriJobCancelled"}},
		{file: "gp-job-succeeded-mock.json", out: func() any { return &fxJob{} },
			want: &fxJob{JobID: "j4fa1db2338f042a19eb68856afabc27e", JobStatus: "esriJobSucceeded",
				Results: map[string]struct {
					ParamURL string `json:"paramUrl"`
				}{"Hotspot_Raster": {"results/hotspot_raster"}, "Output_Features": {"results/output_features"}}}},
		{file: "gp-result-param.json", out: func() any { return &fxParam{} },
			want: &fxParam{ParamName: "Output_String", DataType: "GPString", Value: json.RawMessage(`"TestString"`)}},
		{file: "gp-submitjob-ok.json", out: func() any { return &fxJob{} },
			want: &fxJob{JobID: "ja892cd2a90d149db9a171fc86ff530b4", JobStatus: "esriJobSubmitted"}},
		{file: "gp-task-refresh-service.json", out: func() any { return &fxTask{} },
			want: func() any {
				v := &fxTask{Name: "RefreshService", DisplayName: "Refresh Service", ExecutionType: "esriExecutionTypeAsynchronous"}
				for _, p := range [][2]string{{"serviceName", "esriGPParameterTypeRequired"}, {"serviceType", "esriGPParameterTypeRequired"},
					{"serviceFolder", "esriGPParameterTypeOptional"}, {"refreshOptions", "esriGPParameterTypeOptional"},
					{"refreshResults", "esriGPParameterTypeDerived"}} {
					v.Parameters = append(v.Parameters, struct {
						Name          string `json:"name"`
						ParameterType string `json:"parameterType"`
					}{p[0], p[1]})
				}
				return v
			}()},
		{file: "admin-error-404-service-not-found.json", out: func() any { return &ServiceDefinition{} },
			err: &wantErr{code: 404, message: "Could not find resource or operation 'BZK1.MapServer' on the system.",
				is: []error{ErrNotFound}, isNot: append(authErrs, ErrServiceExists)}},
		{file: "admin-gp-jobs-statistics.json", out: func() any { return &fxJobStatistics{} },
			want: &fxJobStatistics{Total: 19, Cancelled: 0, Failed: 2, Succeeded: 17}},
		{file: "gp-job-progress-default.json", out: func() any { return &gpJobInfo{} },
			want: &gpJobInfo{Progress: &JobProgress{Type: "default", Message: "Executing..."}}},
		{file: "gp-job-progress-step.json", out: func() any { return &gpJobInfo{} },
			want: &gpJobInfo{Progress: &JobProgress{Type: "step", Message: "This is a step progressor with minimum 2, maximum 10, step 2"}}},
		{file: "gp-job-succeeded-inputs-messages.json", out: func() any { return &gpJobInfo{} },
			want: func() any {
				var msgs []JobMessage
				for _, d := range []string{"Start Time: Friday, December 16, 2022 6:05:31 PM", "", "Start Time: Friday, December 16, 2022 6:05:32 PM",
					"Succeeded at Friday, December 16, 2022 6:05:53 PM (Elapsed Time: 21.18 seconds)",
					"Succeeded at Friday, December 16, 2022 6:05:53 PM (Elapsed Time: 22.04 seconds)"} {
					msgs = append(msgs, JobMessage{Type: "esriJobMessageTypeInformative", Description: d})
				}
				var raw struct{ Messages []JobMessage }
				require.NoError(t, json.Unmarshal(fixture(t, "gp-job-succeeded-inputs-messages.json"), &raw))
				require.True(t, strings.HasPrefix(raw.Messages[1].Description, "Executing (Empirical Bayesian Kriging): "))
				msgs[1].Description = raw.Messages[1].Description
				return &gpJobInfo{JobID: "jfae883d52a074359a0bac3d5b353fe16", JobStatus: "esriJobSucceeded", Messages: msgs,
					Results: map[string]gpParamRef{"Output_Long": {"results/Output_Long"}, "Output_Feature_Class": {"results/Output_Feature_Class"}}}
			}()},
		{file: "gp-service-cachingcontrollers-captured.json", out: func() any { return &fxGPService{} },
			want: &fxGPService{CurrentVersion: 10.81, ExecutionType: "esriExecutionTypeAsynchronous", Tasks: []string{"Export Cache",
				"ImportCache", "Manage Map Cache Tiles", "Manage Map Cache Status", "Convert Cache Storage Format", "Upgrade Cache Storage Format"}}},
		{file: "gp-service-cachingtools-captured.json", out: func() any { return &fxGPService{} },
			want: &fxGPService{CurrentVersion: 10.81, ExecutionType: "esriExecutionTypeAsynchronous", Tasks: []string{
				"Convert Cache Storage Format", "Convert Cache Storage Format Worker", "Manage Map Cache Tiles", "Manage Map Cache Tiles Worker",
				"Export Cache", "Export Cache Worker", "DeleteCache", "Create Map Cache", "ImportCache", "Import Cache Worker",
				"Suggest Default Scales", "Manage Map Cache Scales", "Manage Map Cache Status", "Manage Map Cache Status Worker",
				"Upgrade Cache Storage Format Worker"}}},
		{file: "portal-sharing-rest-info-agol-captured.json", out: func() any { return &serverInfo{} },
			want: func() any {
				v := &serverInfo{OwningSystemURL: "https://www.arcgis.com"}
				v.AuthInfo.TokenServicesURL = "https://www.arcgis.com/sharing/rest/generateToken"
				v.AuthInfo.IsTokenBasedSecurity = true
				return v
			}()},
		{file: "portal-token-ok-mock.json", out: func() any { return &tokenResponse{} },
			want: &tokenResponse{Token: "12345", Expires: Time{time.UnixMilli(1716805837870)}, SSL: true}},
		// The services directory answers a missing service with code 500,
		// and a stopped one the same way: only the first is ErrNotFound.
		{file: "rest-error-500-service-not-found.json", out: func() any { return &ServiceDefinition{} },
			err: &wantErr{code: 500, message: "Service FGP/RainbowSmelt_Eperlan_LarvalRetentionArea/MapServer not found ",
				is: []error{ErrNotFound}, isNot: authErrs}},
		{file: "rest-error-500-service-not-started-b.json", out: func() any { return &ServiceDefinition{} },
			err: &wantErr{code: 500, message: "Service ArcMap_IMS/MapServer not started ", isNot: append(authErrs, ErrNotFound)}},
		{file: "tile-cancel-job-ok.json", out: func() any { return &successAnswer{} },
			want: &successAnswer{Success: Ptr(lenientBool(true))}},
		{file: "tile-delete-all-tiles-ok.json", out: func() any { return &successAnswer{} },
			want: &successAnswer{Success: Ptr(lenientBool(true))}},
		// A validation error with code 404: by its code it matches
		// ErrNotFound, though the server means a missing parameter.
		{file: "tile-delete-tiles-error-404-levels.json", out: func() any { return &updateTilesAnswer{} },
			err: &wantErr{code: 404, message: "Unable to delete tiles.", details: []string{"'levels' parameter cannot be empty"},
				is: []error{ErrNotFound}, isNot: authErrs}},
		{file: "tile-delete-tiles-ok.json", out: func() any { return &updateTilesAnswer{} },
			want: &updateTilesAnswer{ID: "82cc6785db3dcd0d", Name: "World", ItemID: "87147b59c92c44de92152730634aa1a4",
				Status: "Success", Type: "Map Service", JobID: "bee23b456506f414", Message: "success"}},
		{file: "update-tiles-error-extent.json", out: func() any { return &fxUpdateTiles{} },
			err: &wantErr{code: 400, details: []string{"Invalid extent."}, isNot: authErrs}},
		{file: "update-tiles-error-levels.json", out: func() any { return &fxUpdateTiles{} },
			err: &wantErr{code: 400, details: []string{"Invalid cache levels."}, isNot: authErrs}},
		{file: "update-tiles-ok.json", out: func() any { return &fxUpdateTiles{} },
			want: &fxUpdateTiles{ID: "ca377ba3-6f19-4ebb-bd15-aaae0c055373", Name: "WorldService", Status: "Success",
				ItemID: "ca377ba36f194ebbbd15aaae0c055373", Type: "Map Service", JobID: "e2e8a0bb-4b40-46ac-813a-0bbdf522195f",
				Message: "success"}},
	}

	// The table covers every fixture on disk, and only those.
	files, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.json"))
	require.NoError(t, err)
	var onDisk, inTable []string
	for _, f := range files {
		onDisk = append(onDisk, filepath.Base(f))
	}
	for _, tt := range tests {
		inTable = append(inTable, tt.file)
	}
	sort.Strings(onDisk)
	sort.Strings(inTable)
	require.Equal(t, onDisk, inTable, "every fixture needs an expected outcome here")
	sources, err := os.ReadFile(filepath.Join("testdata", "fixtures", "SOURCES.md"))
	require.NoError(t, err)
	for _, f := range onDisk {
		assert.Equal(t, 1, strings.Count(string(sources), "\n| "+f+" |"), "SOURCES.md names the origin of %s once", f)
	}

	c, mux, site := setup(t)
	for _, tt := range tests {
		mux.HandleFunc("/arcgis/fx/"+tt.file, serveFixture(t, tt.file))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out := tt.out()
			err := c.Get(t.Context(), "fx/"+tt.file, nil, out)
			if tt.err == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.want, out)
				return
			}
			var apiErr *Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusOK, apiErr.HTTPStatus)
			assert.Equal(t, tt.err.code, apiErr.Code)
			assert.Equal(t, tt.err.messageCode, apiErr.MessageCode)
			assert.Equal(t, tt.err.message, apiErr.Message)
			if tt.err.details == nil {
				assert.Empty(t, apiErr.Details)
			} else {
				assert.Equal(t, tt.err.details, apiErr.Details)
			}
			assert.Equal(t, "GET fx/"+tt.file, apiErr.Op)
			assert.Equal(t, site+"/fx/"+tt.file, apiErr.URL)
			for _, s := range tt.err.is {
				assert.ErrorIs(t, err, s)
			}
			for _, s := range tt.err.isNot {
				assert.NotErrorIs(t, err, s)
			}
			// The text starts with the operation and carries the server's words.
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, apiErr.Op+": "), msg)
			for _, d := range append([]string{tt.err.message}, tt.err.details...) {
				assert.Contains(t, msg, d)
			}
			assert.Contains(t, msg, fmt.Sprintf("[code %d", tt.err.code))
			assert.NotContains(t, msg, "?")
		})
	}
}

// TestDecodeShapes covers the shapes not in the fixtures: every one is a
// typed error or a clean success, never a panic or a silent success.
func TestDecodeShapes(t *testing.T) {
	const html502 = `<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>`
	type kv = map[string]any
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
		// exactly one of these is set
		want    any // success: the decoded map
		apiErr  *wantErr
		respErr string // *ResponseError reason, contained
	}{
		{name: "string error with description", status: 200, ctype: "application/json",
			body:   `{"error":"invalid_request","error_description":"Invalid or missing parameter: itemId"}`,
			apiErr: &wantErr{message: "invalid_request", details: []string{"Invalid or missing parameter: itemId"}}},
		{name: "string error on 401", status: 401, ctype: "application/json",
			body:   `{"error":"invalid_token","error_description":"Token expired"}`,
			apiErr: &wantErr{code: 401, message: "invalid_token", details: []string{"Token expired"}, is: []error{ErrUnauthorized}}},
		{name: "bare code", status: 200, ctype: "application/json",
			body:   `{"code":400,"message":"Index was outside the bounds of the array.","status":"failure"}`,
			apiErr: &wantErr{code: 400, message: "Index was outside the bounds of the array."}},
		{name: "bare code as string", status: 200, body: `{"code":"404","message":"Item does not exist"}`,
			apiErr: &wantErr{code: 404, message: "Item does not exist", is: []error{ErrNotFound}}},
		{name: "details null", status: 200, ctype: "application/json",
			body:   `{"error":{"code":500,"message":"Unable to complete operation.","details":null}}`,
			apiErr: &wantErr{code: 500, message: "Unable to complete operation."}},
		{name: "details a string", status: 200, body: `{"error":{"code":400,"message":"m","details":"one"}}`,
			apiErr: &wantErr{code: 400, message: "m", details: []string{"one"}}},
		{name: "error with a number message", status: 200, body: `{"error":{"code":400,"message":42}}`,
			apiErr: &wantErr{code: 400, message: "42"}},
		{name: "error object unreadable", status: 200, body: `{"error":["x"]}`,
			apiErr: &wantErr{message: `unreadable error: ["x"]`}},
		{name: "error null is no error", status: 200, body: `{"error":null,"value":1}`, want: kv{"error": nil, "value": 1.0}},
		{name: "error envelope on HTTP 500", status: 500, body: `{"error":{"message":"Internal"}}`,
			apiErr: &wantErr{code: 500, message: "Internal"}},
		{name: "admin status FAILED any case", status: 200, body: `{"status":"FAILED","messages":["no"],"code":500}`,
			apiErr: &wantErr{code: 500, message: "no"}},
		{name: "admin status Error with many messages", status: 200, body: `{"status":"Error","messages":["a","b"]}`,
			apiErr: &wantErr{message: "a", details: []string{"b"}}},
		{name: "portal statusMessage JSON", status: 200,
			body:   `{"status":"failed","statusMessage":"{\"code\":400,\"message\":\"Index was outside the bounds of the array.\"}"}`,
			apiErr: &wantErr{code: 400, message: "Index was outside the bounds of the array."}},
		{name: "admin status other with messages", status: 200, body: `{"status":"warning","messages":["careful"]}`,
			apiErr: &wantErr{message: "careful"}},
		{name: "admin job resource FAILED is a job state", status: 200, body: `{"jobid":"j1","status":"FAILED","operationURI":"x"}`,
			want: kv{"jobid": "j1", "status": "FAILED", "operationURI": "x"}},
		{name: "status success", status: 200, body: `{"status":"success","itemId":"abc"}`, want: kv{"status": "success", "itemId": "abc"}},
		{name: "code below 400", status: 200, body: `{"code":200,"message":"fine"}`, want: kv{"code": 200.0, "message": "fine"}},
		{name: "escaped key", status: 200, body: `{"\u0065rror":{"code":498,"message":"Invalid token."}}`,
			apiErr: &wantErr{code: 498, message: "Invalid token.", is: []error{ErrInvalidToken}}},
		{name: "JSON as text/plain", status: 200, ctype: "text/plain", body: `{"a":"b"}`, want: kv{"a": "b"}},
		{name: "BOM and whitespace", status: 200, body: "\xef\xbb\xbf \n{\"a\":1}\n", want: kv{"a": 1.0}},
		{name: "JSON on 404 without envelope", status: 404, ctype: "application/json", body: `{"a":1}`,
			apiErr: &wantErr{code: 404, message: "not found", is: []error{ErrNotFound}}},
		{name: "HTML 502", status: 502, ctype: "text/html", body: html502, respErr: "not JSON"},
		{name: "HTML with 200", status: 200, ctype: "text/html; charset=utf-8",
			body: "<!DOCTYPE html><html><body>ArcGIS Web Adaptor login</body></html>", respErr: "not JSON"},
		{name: "HTML 403 page", status: 403, ctype: "text/html", body: "<html>Forbidden</html>", respErr: "not JSON"},
		{name: "empty body", status: 200, respErr: "empty body"},
		{name: "whitespace body", status: 200, body: " \n\t", respErr: "empty body"},
		{name: "truncated JSON", status: 200, ctype: "application/json", body: `{"jobId":"j1","jobStatus":"esriJob`, respErr: "malformed JSON"},
		{name: "truncated error envelope", status: 200, body: `{"error":{"code":498,`, respErr: "malformed JSON"},
		{name: "bare JSON string", status: 200, body: `"ok"`, respErr: "not JSON"},
		{name: "array into an object", status: 200, body: `[1,2]`, respErr: "unexpected shape"},
	}
	c, mux, _ := setup(t, WithRetryPolicy(RetryPolicy{MaxRetries: -1}))
	for i, tt := range tests {
		mux.HandleFunc(fmt.Sprintf("/arcgis/shape/%d", i), serveRaw(tt.status, tt.ctype, tt.body))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out map[string]any
			err := c.Get(t.Context(), fmt.Sprintf("shape/%d", i), nil, &out)
			switch {
			case tt.want != nil:
				require.NoError(t, err)
				assert.Equal(t, tt.want, out)
			case tt.apiErr != nil:
				var apiErr *Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tt.status, apiErr.HTTPStatus)
				assert.Equal(t, tt.apiErr.code, apiErr.Code)
				assert.Equal(t, tt.apiErr.message, apiErr.Message)
				if tt.apiErr.details == nil {
					assert.Empty(t, apiErr.Details)
				} else {
					assert.Equal(t, tt.apiErr.details, apiErr.Details)
				}
				for _, s := range tt.apiErr.is {
					assert.ErrorIs(t, err, s)
				}
			default:
				var re *ResponseError
				require.ErrorAs(t, err, &re)
				assert.Contains(t, re.Reason, tt.respErr)
				assert.Equal(t, tt.status, re.HTTPStatus)
				if tt.ctype != "" {
					assert.Equal(t, tt.ctype, re.ContentType)
				}
				assert.LessOrEqual(t, len(re.Snippet), snippetLen+len("…"))
				assert.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("GET shape/%d: ", i)), err.Error())
			}
		})
	}
}

func TestDecodeHTML502Message(t *testing.T) {
	c, mux, site := setup(t)
	var calls int
	mux.HandleFunc("/arcgis/rest/services", func(w http.ResponseWriter, r *http.Request) {
		calls++
		serveRaw(http.StatusBadGateway, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>")(w, r)
	})
	err := c.Get(t.Context(), "rest/services", nil, nil)
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 4, calls, "a GET is retried on 502; the last page is decoded")
	assert.Equal(t, `GET rest/services: unexpected response: not JSON (HTTP 502, text/html): "<html><body><h1>502 Bad Gateway</h1></body></html>" at `+site+"/rest/services", err.Error())
	assert.NotErrorIs(t, err, ErrNotFound)
}

func TestDecodeWrongTypes(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/arcgis/status", serveRaw(200, "application/json", `{"configuredState":1,"realTimeState":"STARTED"}`))
	mux.HandleFunc("/arcgis/time", serveRaw(200, "application/json", `{"expires":"tomorrow"}`))
	mux.HandleFunc("/arcgis/bool", serveRaw(200, "application/json", `{"b":"maybe"}`))

	var st fxServiceStatus
	err := c.Get(t.Context(), "status", nil, &st)
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "JSON of an unexpected shape", re.Reason)
	var typeErr *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &typeErr, "the decode error is kept for errors.As")

	var tr struct {
		Expires Time `json:"expires"`
	}
	require.ErrorAs(t, c.Get(t.Context(), "time", nil, &tr), &re)
	assert.Contains(t, re.Error(), "epoch milliseconds")

	var b struct {
		B lenientBool `json:"b"`
	}
	require.ErrorAs(t, c.Get(t.Context(), "bool", nil, &b), &re)
}

func TestDecodeOversizedBody(t *testing.T) {
	c, mux, _ := setup(t, WithMaxResponseBytes(1024))
	big := `{"value":"` + strings.Repeat("x", 5000) + `"}`
	mux.HandleFunc("/arcgis/big", serveRaw(200, "application/json", big))
	mux.HandleFunc("/arcgis/exact", serveRaw(200, "application/json", `{"v":"`+strings.Repeat("y", 1024-8)+`"}`))
	mux.HandleFunc("/arcgis/chunked", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for range 10 {
			_, _ = w.Write([]byte(strings.Repeat(" ", 500)))
			w.(http.Flusher).Flush() // no Content-Length
		}
	})

	var out map[string]any
	err := c.Get(t.Context(), "big", nil, &out)
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "body larger than the 1024-byte limit", re.Reason)
	assert.LessOrEqual(t, len(re.Snippet), snippetLen+len("…"))
	assert.Nil(t, out)

	require.NoError(t, c.Get(t.Context(), "exact", nil, &out), "a body of exactly the limit is read")

	require.ErrorAs(t, c.Get(t.Context(), "chunked", nil, nil), &re)
	assert.Equal(t, "body larger than the 1024-byte limit", re.Reason)
}

// TestDecodeDirect exercises decode on its own: out nil, secrets, redaction.
func TestDecodeDirect(t *testing.T) {
	a := answer{op: "op", status: 200, body: []byte(`{"a":1}`)}
	assert.NoError(t, decode(a, nil))

	a.body = []byte(`{"a":1`)
	var re *ResponseError
	require.ErrorAs(t, decode(a, nil), &re, "out nil still rejects malformed JSON")
	assert.Equal(t, "malformed JSON", re.Reason)

	// A secret answer keeps no snippet and no quoted value.
	a = answer{op: "generateToken", status: 200, secret: true, body: []byte(`{"token":12345678901234}`)}
	var tr tokenResponse
	require.ErrorAs(t, decode(a, &tr), &re)
	assert.Empty(t, re.Snippet)
	assert.NotContains(t, re.Error(), "12345678901234")
	assert.Contains(t, re.Error(), `field "token"`)

	// Snippets and server messages mask the token and passwords in use.
	a = answer{op: "x", status: 502, body: []byte("<p>token=SECRETTOK pw=hunter2</p>"), token: "SECRETTOK", redact: []string{"hunter2"}}
	require.ErrorAs(t, decode(a, nil), &re)
	assert.Equal(t, "<p>token=REDACTED pw=REDACTED</p>", re.Snippet)
	a.body = []byte(`{"error":{"code":400,"message":"bad token SECRETTOK","details":["pw hunter2"]}}`)
	var apiErr *Error
	require.ErrorAs(t, decode(a, nil), &apiErr)
	assert.Equal(t, "bad token REDACTED", apiErr.Message)
	assert.Equal(t, []string{"pw REDACTED"}, apiErr.Details)
}

func TestMayHoldEnvelope(t *testing.T) {
	for body, want := range map[string]bool{
		`{"jobId":"j","jobStatus":"esriJobSucceeded","messages":[{"type":"esriJobMessageTypeError"}]}`: false,
		`{"currentVersion":11.3}`:        false,
		`{"error":{}}`:                   true,
		`{"a":1,"status":"x"}`:           true,
		`{"code":1}`:                     true,
		`{"\u0063ode":500}`:              true,
		`{"value":"quoted \"error\" x"}`: false,
		`{"value":"the \"error\": x"}`:   false,
		`{"value":"error\"x"}`:           false,
		`{"value":"\"error\""}`:          false,
		`{"note":"see \"status\""}`:      false,
		`{"v":"a","w":"error"}`:          true, // a false alarm costs a decode, nothing more
		`{}`:                             false,
		`"`:                              false,
	} {
		assert.Equal(t, want, mayHoldEnvelope([]byte(body)), body)
	}
}

// FuzzDecode feeds arbitrary bytes, content types and statuses to the
// decoder: it never panics, and the outcome is nil, an *Error or a
// *ResponseError, whatever the body.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"error":{"code":498,"message":"Invalid token.","details":[]}}`), "application/json", 200)
	f.Fuzz(func(t *testing.T, body []byte, contentType string, status int) {
		a := answer{op: "fuzz", status: status, contentType: contentType, body: body, token: "TOKENVALUE"}
		for _, out := range []any{nil, new(map[string]any), new(fxJob), new(tokenResponse), new([]any)} {
			err := decode(a, out)
			if err == nil {
				continue
			}
			var apiErr *Error
			var re *ResponseError
			switch {
			case errors.As(err, &apiErr):
				assert.Equal(t, status, apiErr.HTTPStatus)
				assert.NotContains(t, apiErr.Message, "TOKENVALUE")
			case errors.As(err, &re):
				assert.LessOrEqual(t, len(re.Snippet), snippetLen+len("…"))
				assert.NotContains(t, re.Snippet, "TOKENVALUE")
			default:
				t.Fatalf("decode returned %T: %v", err, err)
			}
			_ = err.Error()
		}
	})
}

// FuzzTokenResponse feeds arbitrary generateToken answers through the
// decoder and the token reader: no panic; a token comes with an expiry;
// an error never quotes the answer (it may hold a credential).
func FuzzTokenResponse(f *testing.F) {
	f.Add([]byte(`{"token":"abc","expires":1700000000000,"ssl":true}`), 200)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		a := answer{op: "generateToken", status: status, body: body, secret: true}
		var tr tokenResponse
		err := decode(a, &tr)
		if err != nil {
			var re *ResponseError
			if errors.As(err, &re) {
				assert.Empty(t, re.Snippet, "no snippet of a token answer")
				if re.Err != nil && len(body) >= 16 {
					assert.NotContains(t, re.Err.Error(), string(body))
				}
				return
			}
			var apiErr *Error
			require.ErrorAs(t, err, &apiErr)
			return
		}
		tok := tr.token(now, time.Hour)
		assert.False(t, tok.IsZero(), "decode lets through only an answer with a token")
		assert.False(t, tok.Expires.IsZero())
		// What fmt prints never depends on the value: the same token with
		// another value prints the same. (Comparing texts rather than
		// searching one for the value: a token "0" is found in any date.)
		other := NewToken(tok.Value()+"-other", tok.Expires)
		show := func(v Token) string { return fmt.Sprintf("%v %+v %#v %s %q", v, v, v, v, v) }
		assert.Equal(t, show(other), show(tok))
		if len(tok.Value()) >= 8 {
			assert.NotContains(t, show(tok), tok.Value())
		}
	})
}

func TestFuzzCorporaPresent(t *testing.T) {
	for _, dir := range []string{"FuzzDecode", "FuzzTokenResponse"} {
		entries, err := os.ReadDir(filepath.Join("testdata", "fuzz", dir))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, len(entries), 10, dir)
	}
}

// checkedAnswer is an answer type whose check says what the test wants.
type checkedAnswer struct {
	Status  string `json:"status"`
	verdict func(a *checkedAnswer) error
}

func (a *checkedAnswer) checkAnswer() error { return a.verdict(a) }

// TestDecodeRunsAnswerChecks: decode asks an answer type that knows what a
// usable answer holds, and reports what it lacks as any bad answer: the
// real status, operation and URL, a snippet with secrets masked, or for a
// refusal an *Error with the server's words, masked too.
func TestDecodeRunsAnswerChecks(t *testing.T) {
	u, err := url.Parse("https://gis.example.com/arcgis/rest/x?token=SECRETTOK")
	require.NoError(t, err)
	a := answer{op: "x", url: u, status: 200, token: "SECRETTOK",
		body: []byte(`{"status":"pending SECRETTOK"}`)}

	ok := &checkedAnswer{verdict: func(*checkedAnswer) error { return nil }}
	require.NoError(t, decode(a, ok))
	assert.Equal(t, "pending SECRETTOK", ok.Status, "checked after decoding")

	lacking := &checkedAnswer{verdict: func(*checkedAnswer) error { return badAnswer("no jobId in the answer") }}
	var re *ResponseError
	require.ErrorAs(t, decode(a, lacking), &re)
	assert.Equal(t, "no jobId in the answer", re.Reason)
	assert.Equal(t, 200, re.HTTPStatus)
	assert.Equal(t, "x", re.Op)
	assert.Equal(t, "https://gis.example.com/arcgis/rest/x", re.URL)
	assert.Equal(t, `{"status":"pending REDACTED"}`, re.Snippet)

	refused := &checkedAnswer{verdict: func(a *checkedAnswer) error {
		return refusal{message: a.Status, details: []string{"status: " + a.Status}}
	}}
	var apiErr *Error
	require.ErrorAs(t, decode(a, refused), &apiErr)
	assert.Equal(t, &Error{HTTPStatus: 200, Message: "pending REDACTED", Details: []string{"status: pending REDACTED"},
		Op: "x", URL: "https://gis.example.com/arcgis/rest/x"}, apiErr)

	// A secret answer keeps no snippet, checked or not.
	a.secret = true
	require.ErrorAs(t, decode(a, lacking), &re)
	assert.Empty(t, re.Snippet)

	// Error answers never reach the check.
	a.secret, a.status = false, 500
	called := false
	never := &checkedAnswer{verdict: func(*checkedAnswer) error { called = true; return nil }}
	require.Error(t, decode(a, never))
	assert.False(t, called)
}
