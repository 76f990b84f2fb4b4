// Package synced defines what crddemo writes when it syncs a Mydemo: the
// Synced event and the status that reports the generation it observed. The
// controller, the benchmark's measure of the API server's limit and the
// tests all use these definitions, so that they make and look for exactly
// the same writes.
package synced

const (
	// ConditionType is the status condition that tells users, and
	// `kubectl get md`, whether crddemo has processed a Mydemo.
	ConditionType = "Synced"

	// Reason and Message describe a successful sync, in the Synced event and
	// in the Synced condition alike.
	Reason  = "Synced"
	Message = "Mydemo synced successfully"

	// FieldManager names crddemo in the managedFields of the status it
	// applies.
	FieldManager = "crddemo"

	// Component names crddemo as the source of its events, which
	// `kubectl describe` shows, and as their reportingController.
	Component = "crddemo"
)
