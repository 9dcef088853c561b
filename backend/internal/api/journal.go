package api

import (
	"net/http"
	"strings"

	"traderadmin/backend/internal/audit"
	"traderadmin/backend/internal/config"
)

// auditActor is who an audit entry names: the authenticated identity, the fingerprint of its
// token, and the client's own X-Actor header as a note.
type auditActor struct {
	actor, credential, note string
}

func actorOfRequest(r *http.Request) auditActor {
	id := identityOf(r)
	return auditActor{actor: string(id.Role), credential: id.Fingerprint, note: noteOf(r)}
}

// journal is the config.Journal that writes a change's audit intent before the store
// touches config.toml and its outcome afterwards.
func (s *Server) journal(who auditActor, action string) config.Journal {
	return &auditJournal{s: s, who: who, action: action}
}

type auditJournal struct {
	s      *Server
	who    auditActor
	action string
}

type auditPending struct {
	j       *auditJournal
	id      string
	after   config.Snapshot
	changes int
}

func (j *auditJournal) Prepare(before, after config.Snapshot) (config.Pending, error) {
	summary := "wrote default configuration"
	changes := 0
	if j.action != "config.init" {
		diff := config.Diff(before.Config, after.Config)
		changes = len(diff)
		summary = strings.Join(diff, "; ")
		if summary == "" {
			summary = "no changes"
		}
	}
	id, err := j.s.audit.Begin(audit.Entry{
		Actor: j.who.actor, Credential: j.who.credential, Note: j.who.note,
		Action: j.action, Summary: summary, ETag: after.ETag, PreviousETag: before.ETag,
	})
	if err != nil {
		j.s.log.Error("writing the audit intent failed; the change is refused", "error", err.Error(),
			"action", j.action, "actor", j.who.actor)
		return nil, err
	}
	return &auditPending{j: j, id: id, after: after, changes: changes}, nil
}

func (p *auditPending) Resolve(committed bool, reason string) {
	j := p.j
	if committed {
		j.s.log.Info("configuration changed", "actor", j.who.actor, "credential", j.who.credential, "note", j.who.note,
			"action", j.action, "etag", p.after.ETag, "changes", p.changes, "audit_id", p.id)
	}
	if err := j.s.audit.Resolve(p.id, committed, reason); err != nil {
		// The intent is durable; the next start resolves it against config.toml.
		j.s.log.Error("writing the audit outcome failed; it is reconciled at the next start",
			"error", err.Error(), "audit_id", p.id, "committed", committed)
	}
}
