package rules

import (
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// relation merges relations[i] into its stored record and checks it; firstAt
// holds the index of each relation_external_id's first occurrence.
func (e *evaluation) relation(i int, in *openapi.Relation, firstAt map[string]int, m *msgs) Relation {
	rid := deref(in.RelationExternalID)
	if rid == "" {
		m.err(RelationExternalIDMissing, "relation_external_id is missing or empty; give every relation your own identifier, unique within your business")
	} else if first, dup := firstAt[rid]; dup {
		m.err(RelationExternalIDDuplicate, "relation_external_id %q was already given by relations[%d]; send each relation once per request", rid, first)
	} else {
		firstAt[rid] = i
	}
	rel, exists := Relation{}, false
	if rid != "" {
		rel, exists = e.storedRelation(rid)
	}
	if !exists {
		rel = Relation{RelationExternalID: rid, CreatedAt: e.env.NowNanos}
	}
	rel.UpdatedAt = e.env.NowNanos
	setString(&rel.ParentExternalID, in.ParentCustomerExternalID)
	setString(&rel.ChildExternalID, in.ChildCustomerExternalID)
	if in.Disabled != nil {
		rel.Disabled = *in.Disabled
	}
	e.checkEnds(&rel, m)
	switch {
	case in.RelationType != nil && !e.cfg.RelationTypeKnown(*in.RelationType):
		m.err(RelationTypeInvalid, "relation_type %d is not in the relation-type table (known: %s)", *in.RelationType, e.relationTypeList())
	case in.RelationType != nil:
		rel.RelationType = *in.RelationType
	case !exists:
		m.err(RelationTypeInvalid, "relation_type is required when creating a relation (known: %s)", e.relationTypeList())
	}
	if in.Fields != nil {
		rel.Fields = e.mergeFields(m, "fields", rel.Fields, in.Fields)
	}
	unknownKeys(m, "", in.Extra, openapi.RelationKeys)
	return rel
}

// checkEnds checks that the merged relation's parent and child are two
// customers of the business once the request's customers are applied.
func (e *evaluation) checkEnds(rel *Relation, m *msgs) {
	for _, end := range [2]struct{ field, eid string }{
		{"parent_customer_external_id", rel.ParentExternalID},
		{"child_customer_external_id", rel.ChildExternalID},
	} {
		switch {
		case end.eid == "":
			m.err(RelationCustomerMissing, "%s is missing or empty; a relation needs both a parent and a child customer", end.field)
		case e.exists(end.eid):
		case e.rejected(end.eid):
			m.err(RelationCustomerRejected, "%s %q names a customer that this request rejected and that is not stored", end.field, end.eid)
		default:
			m.err(RelationCustomerUnknown, "%s %q is not a customer of your business; save the customer first or in the same request", end.field, end.eid)
		}
	}
	if rel.ParentExternalID != "" && rel.ParentExternalID == rel.ChildExternalID {
		m.err(RelationSelfReference, "parent_customer_external_id and child_customer_external_id are both %q; a customer cannot be related to itself", rel.ParentExternalID)
	}
}

func (e *evaluation) relationTypeList() string { return e.cfg.relationTypeText }
