package rules

// MemState is a State held in two maps, to which Keep adds what an Outcome
// stores: a business that lives only as long as the value. The linter and
// the contract suite's predictions run a sequence of bodies on it; the
// mock's stores are the store package's.
type MemState struct {
	customers map[string]Customer
	relations map[string]Relation
}

// NewMemState returns a MemState with nothing stored.
func NewMemState() *MemState {
	return &MemState{customers: map[string]Customer{}, relations: map[string]Relation{}}
}

// Customer implements State.
func (s *MemState) Customer(externalID string) (Customer, bool, error) {
	c, ok := s.customers[externalID]
	return c, ok, nil
}

// Relation implements State.
func (s *MemState) Relation(relationExternalID string) (Relation, bool, error) {
	r, ok := s.relations[relationExternalID]
	return r, ok, nil
}

// Keep stores the customers and relations of o, as a save that is not a dry
// run does.
func (s *MemState) Keep(o Outcome) {
	for _, c := range o.Customers {
		s.customers[c.ExternalID] = *c
	}
	for _, r := range o.Relations {
		s.relations[r.RelationExternalID] = r
	}
}
