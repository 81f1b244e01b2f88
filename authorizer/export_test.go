package authorizer

// Test helpers the external test package (authorizer_test) shares.

// AssertNoKeysLogged is assertNoKeysLogged.
var AssertNoKeysLogged = assertNoKeysLogged
