package ags

// operation is the REST operation a call performs, named as Esri's
// reference and the URL name it ("createService", "submitJob", "cancel").
// Every call carries one, and so does every *Error decoded from its answer:
// a sentinel that holds for one operation only (ErrServiceExists,
// ErrFolderExists) compares the operation, never the text an error shows,
// so rewording that text cannot silently change what matches.
type operation string

// The operations of this package. A resource read is named by the resource
// (services, service, status); a job's status read is "status".
const (
	opInfo             operation = "info"                      // rest/info, sharing/rest/info
	opGenerateToken    operation = "generateToken"             // tokens/generateToken, admin/generateToken, sharing/rest/generateToken
	opCreateService    operation = "createService"             // admin/services/[<folder>/]createService
	opCanCreateService operation = "canCreateService"          // admin/services/canCreateService
	opCreateFolder     operation = "createFolder"              // admin/services/createFolder
	opServices         operation = "services"                  // admin/services[/<folder>]: a folder listing
	opService          operation = "service"                   // admin/services/.../<name>.<type>: a service's JSON
	opStatus           operation = "status"                    // a service's status, or a job's
	opStart            operation = "start"                     // admin/services/.../<name>.<type>/start
	opStop             operation = "stop"                      // .../stop
	opDelete           operation = "delete"                    // .../delete
	opEdit             operation = "edit"                      // .../edit
	opStartServices    operation = "startServices"             // admin/services/startServices
	opStopServices     operation = "stopServices"              // admin/services/stopServices
	opSubmitJob        operation = "submitJob"                 // rest/services/<task>/submitJob
	opResults          operation = "results"                   // rest/services/<task>/jobs/<id>/results/<param>
	opCancel           operation = "cancel"                    // a GP or tile job's cancel
	opUpdateTiles      operation = "updateTiles"               // rest/admin/services/<name>/MapServer/updateTiles
	opDeleteTiles      operation = "deleteTiles"               // rest/admin/services/<name>/MapServer/deleteTiles
	opDeleteAllTiles   operation = "deleteAllTiles"            // rest/admin/services/<name>/MapServer/deleteAllTiles
	opRerun            operation = "rerun"                     // rest/admin/services/<name>/MapServer/jobs/<id>/rerun
	opServiceInfo      operation = "service info"              // rest/services/.../<name>/<type>: the services directory's JSON
	opJobs             operation = "jobs"                      // rest/admin/services/<name>/MapServer/jobs: the job summary
	opInputs           operation = "inputs"                    // rest/services/<task>/jobs/<id>/inputs/<param>
	opExists           operation = "exists"                    // admin/services/exists
	opUpload           operation = "upload"                    // admin/uploads/upload
	opRegister         operation = "register"                  // admin/uploads/register
	opUploadPart       operation = "uploadPart"                // admin/uploads/<id>/uploadPart
	opCommit           operation = "commit"                    // admin/uploads/<id>/commit
	opUploads          operation = "uploads"                   // admin/uploads: the list
	opItem             operation = "item"                      // admin/uploads/<id>: an uploaded item
	opServiceConfig    operation = "serviceconfiguration.json" // admin/uploads/<id>/serviceconfiguration.json
)

// label is how a call names itself in errors and logs: the operation,
// after what it acts on when there is one ("Refresh Service: submitJob",
// "Maps/Roads.MapServer: start", "Refresh Service job j1: status").
func (r call) label() string {
	if r.scope == "" {
		return string(r.op)
	}
	return r.scope + ": " + string(r.op)
}
