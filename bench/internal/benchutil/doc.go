// Package benchutil holds what the bench programs share: how a main reports
// its error and exits, its flag set, which signals stop a program, and how a
// program serves HTTP until then.
package benchutil
