package naming

import "testing"

func TestNamesArePerStage(t *testing.T) {
	if FunctionName("challenge-api", "prod") == FunctionName("challenge-api", "dev") {
		t.Fatal("function names collide across stages")
	}
	if got := StateKey("challenge-api", "prod"); got != "challenge-api/prod/terraform.tfstate" {
		t.Fatalf("StateKey = %q", got)
	}
	if DataDirName("prod") == DataDirName("dev") {
		t.Fatal("data dirs collide across stages")
	}
	if UsagePlanName("a", "prod") != "a-prod-plan" || APIName("a", "prod") != "a-prod" {
		t.Fatal("unexpected names")
	}
}
