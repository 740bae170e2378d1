package postgres

// LookupStatements are the statements that look rows up by key, for
// TestLookupPlans.
var LookupStatements = map[string]string{
	"recorded hashes": recordedHashesSQL,
	"recorded":        recordedSQL,
	"entries":         entriesSQL,
	"registrations":   registrationsSQL,
	"states":          statesSQL,
	"relay entries":   relayEntriesSQL,
	"relay event":     relayEventSQL,
	"list recorded":   listRecordedSQL,
	"list rejected":   listRejectedSQL,
	"rejection":       rejectionSQL,
	"rejections page": rejectionsSQL,
}
