//! Every operation awsim routes, in one table: `(method, path template, operation, success status)`.
//! The bedrock-runtime operations, awsim's own `/_awsim/` endpoints, and every Bedrock control-plane
//! operation in the botocore model (generated from the service model once). A route names a typed
//! [`Operation`]; each side dispatches on its own enum, and a real operation awsim does not emulate
//! is [`Operation::NotEmulated`], answered with a 501 that names it.

use AdminOp::*;
use ManagementOp::*;
use Operation::{Admin as A, Management as M, NotEmulated, Runtime as R};
use RuntimeOp::*;

/// What a route asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Admin(AdminOp),
    Runtime(RuntimeOp),
    Management(ManagementOp),
    /// A real Bedrock or Bedrock Runtime operation awsim does not emulate, by its name.
    NotEmulated(&'static str),
}

/// awsim's own endpoints under `/_awsim/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminOp {
    Health,
    Reset,
    AddRules,
    ListRules,
    DeleteRules,
    DeleteRule,
    /// `GET /_awsim/invocations`: the invocation log, newest first.
    ListInvocations,
    /// `GET /_awsim/invocations/{requestId}`: one call with its emitted events.
    GetInvocation,
    /// `DELETE /_awsim/invocations`.
    ClearInvocations,
    /// `GET /_awsim/invocations/{requestId}/frames`: a stream's frames as `awsim frames decode`
    /// lists them.
    InvocationFrames,
    /// `GET /_awsim/` (and `/_awsim/ui`): the inspector page.
    Inspector,
    /// `GET /_awsim/ui/{asset}`: the page's scripts and styles.
    InspectorAsset,
}

/// The bedrock-runtime operations awsim emulates: a token stream on a model, or a guardrail's
/// evaluation.
/// Rules name them in their `match` (`"operation": "ConverseStream"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub enum RuntimeOp {
    InvokeModel,
    InvokeModelWithResponseStream,
    Converse,
    ConverseStream,
    CountTokens,
    ApplyGuardrail,
    InvokeGuardrailChecks,
}

impl RuntimeOp {
    pub const ALL: [Self; 7] = [
        InvokeModel,
        InvokeModelWithResponseStream,
        Converse,
        ConverseStream,
        CountTokens,
        ApplyGuardrail,
        InvokeGuardrailChecks,
    ];

    /// The operation's name in the service model (`ConverseStream`).
    pub fn name(self) -> &'static str {
        match self {
            InvokeModel => "InvokeModel",
            InvokeModelWithResponseStream => "InvokeModelWithResponseStream",
            Converse => "Converse",
            ConverseStream => "ConverseStream",
            CountTokens => "CountTokens",
            ApplyGuardrail => "ApplyGuardrail",
            InvokeGuardrailChecks => "InvokeGuardrailChecks",
        }
    }

    pub fn is_streaming(self) -> bool {
        matches!(self, InvokeModelWithResponseStream | ConverseStream)
    }
}

/// The control-plane operations awsim emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagementOp {
    ListFoundationModels,
    GetFoundationModel,
    ListInferenceProfiles,
    GetInferenceProfile,
    CreateInferenceProfile,
    DeleteInferenceProfile,
    CreateModelCustomizationJob,
    GetModelCustomizationJob,
    ListModelCustomizationJobs,
    StopModelCustomizationJob,
    ListCustomModels,
    GetCustomModel,
    DeleteCustomModel,
    CreateProvisionedModelThroughput,
    GetProvisionedModelThroughput,
    ListProvisionedModelThroughputs,
    UpdateProvisionedModelThroughput,
    DeleteProvisionedModelThroughput,
    GetModelInvocationLoggingConfiguration,
    PutModelInvocationLoggingConfiguration,
    DeleteModelInvocationLoggingConfiguration,
    TagResource,
    UntagResource,
    ListTagsForResource,
    CreateGuardrail,
    GetGuardrail,
    ListGuardrails,
    UpdateGuardrail,
    CreateGuardrailVersion,
    DeleteGuardrail,
}

/// The route table. The router matches more literal segments first and keeps this order among
/// equals, so the runtime's routes come first.
#[rustfmt::skip] // one line per operation
pub const OPERATIONS: &[(&str, &str, Operation, u16)] = &[
    // bedrock-runtime (wire.md §4.3), the hot ones first.
    ("POST", "/model/{modelId+}/converse-stream", R(ConverseStream), 200),
    ("POST", "/model/{modelId+}/invoke-with-response-stream", R(InvokeModelWithResponseStream), 200),
    ("POST", "/model/{modelId+}/converse", R(Converse), 200),
    ("POST", "/model/{modelId+}/invoke", R(InvokeModel), 200),
    ("POST", "/model/{modelId+}/count-tokens", R(CountTokens), 200),
    ("POST", "/model/{modelId+}/invoke-with-bidirectional-stream", NotEmulated("InvokeModelWithBidirectionalStream"), 200),
    ("POST", "/guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply", R(ApplyGuardrail), 200),
    ("POST", "/guardrail-checks/invoke", R(InvokeGuardrailChecks), 200),
    ("POST", "/async-invoke", NotEmulated("StartAsyncInvoke"), 200),
    ("GET", "/async-invoke", NotEmulated("ListAsyncInvokes"), 200),
    ("GET", "/async-invoke/{invocationArn+}", NotEmulated("GetAsyncInvoke"), 200),
    // awsim's own endpoints.
    ("GET", "/_awsim/health", A(Health), 200),
    ("POST", "/_awsim/reset", A(Reset), 200),
    ("GET", "/_awsim/invocations", A(ListInvocations), 200),
    ("GET", "/_awsim/invocations/{requestId}", A(GetInvocation), 200),
    ("GET", "/_awsim/invocations/{requestId}/frames", A(InvocationFrames), 200),
    ("DELETE", "/_awsim/invocations", A(ClearInvocations), 200),
    ("POST", "/_awsim/rules", A(AddRules), 200),
    ("GET", "/_awsim/rules", A(ListRules), 200),
    ("DELETE", "/_awsim/rules", A(DeleteRules), 200),
    ("DELETE", "/_awsim/rules/{ruleId}", A(DeleteRule), 200),
    // The router takes `/_awsim/` as `/_awsim`.
    ("GET", "/_awsim", A(Inspector), 200),
    ("GET", "/_awsim/ui", A(Inspector), 200),
    ("GET", "/_awsim/ui/{asset}", A(InspectorAsset), 200),
    // bedrock (the control plane): every operation in the botocore model, apiVersion 2023-04-20.
    ("GET", "/foundation-models/{modelIdentifier}", M(GetFoundationModel), 200),
    ("GET", "/foundation-model-availability/{modelId}", NotEmulated("GetFoundationModelAvailability"), 200),
    ("GET", "/foundation-models", M(ListFoundationModels), 200),
    ("POST", "/create-foundation-model-agreement", NotEmulated("CreateFoundationModelAgreement"), 202),
    ("POST", "/delete-foundation-model-agreement", NotEmulated("DeleteFoundationModelAgreement"), 202),
    ("GET", "/use-case-for-model-access", NotEmulated("GetUseCaseForModelAccess"), 200),
    ("GET", "/list-foundation-model-agreement-offers/{modelId}", NotEmulated("ListFoundationModelAgreementOffers"), 200),
    ("POST", "/use-case-for-model-access", NotEmulated("PutUseCaseForModelAccess"), 201),
    ("POST", "/guardrails", M(CreateGuardrail), 202),
    ("POST", "/guardrails/{guardrailIdentifier}", M(CreateGuardrailVersion), 202),
    ("DELETE", "/guardrails/{guardrailIdentifier}", M(DeleteGuardrail), 202),
    ("GET", "/guardrails/{guardrailIdentifier}", M(GetGuardrail), 200),
    ("GET", "/guardrails", M(ListGuardrails), 200),
    ("PUT", "/guardrails/{guardrailIdentifier}", M(UpdateGuardrail), 202),
    ("DELETE", "/enforcedGuardrailsConfiguration/{configId}", NotEmulated("DeleteEnforcedGuardrailConfiguration"), 200),
    ("GET", "/enforcedGuardrailsConfiguration", NotEmulated("ListEnforcedGuardrailsConfiguration"), 200),
    ("PUT", "/enforcedGuardrailsConfiguration", NotEmulated("PutEnforcedGuardrailConfiguration"), 200),
    ("POST", "/inference-profiles", M(CreateInferenceProfile), 201),
    ("DELETE", "/inference-profiles/{inferenceProfileIdentifier}", M(DeleteInferenceProfile), 200),
    ("GET", "/inference-profiles/{inferenceProfileIdentifier}", M(GetInferenceProfile), 200),
    ("GET", "/inference-profiles", M(ListInferenceProfiles), 200),
    ("POST", "/model-customization-jobs", M(CreateModelCustomizationJob), 201),
    ("GET", "/model-customization-jobs/{jobIdentifier}", M(GetModelCustomizationJob), 200),
    ("GET", "/model-customization-jobs", M(ListModelCustomizationJobs), 200),
    ("POST", "/model-customization-jobs/{jobIdentifier}/stop", M(StopModelCustomizationJob), 200),
    ("POST", "/custom-models/create-custom-model", NotEmulated("CreateCustomModel"), 202),
    ("DELETE", "/custom-models/{modelIdentifier}", M(DeleteCustomModel), 200),
    ("GET", "/custom-models/{modelIdentifier}", M(GetCustomModel), 200),
    ("GET", "/custom-models", M(ListCustomModels), 200),
    ("POST", "/model-customization/custom-model-deployments", NotEmulated("CreateCustomModelDeployment"), 202),
    ("DELETE", "/model-customization/custom-model-deployments/{customModelDeploymentIdentifier}", NotEmulated("DeleteCustomModelDeployment"), 200),
    ("GET", "/model-customization/custom-model-deployments/{customModelDeploymentIdentifier}", NotEmulated("GetCustomModelDeployment"), 200),
    ("GET", "/model-customization/custom-model-deployments", NotEmulated("ListCustomModelDeployments"), 200),
    ("PATCH", "/model-customization/custom-model-deployments/{customModelDeploymentIdentifier}", NotEmulated("UpdateCustomModelDeployment"), 202),
    ("POST", "/listTagsForResource", M(ListTagsForResource), 200),
    ("POST", "/tagResource", M(TagResource), 200),
    ("POST", "/untagResource", M(UntagResource), 200),
    ("DELETE", "/logging/modelinvocations", M(DeleteModelInvocationLoggingConfiguration), 200),
    ("GET", "/logging/modelinvocations", M(GetModelInvocationLoggingConfiguration), 200),
    ("PUT", "/logging/modelinvocations", M(PutModelInvocationLoggingConfiguration), 200),
    ("POST", "/provisioned-model-throughput", M(CreateProvisionedModelThroughput), 201),
    ("DELETE", "/provisioned-model-throughput/{provisionedModelId}", M(DeleteProvisionedModelThroughput), 200),
    ("GET", "/provisioned-model-throughput/{provisionedModelId}", M(GetProvisionedModelThroughput), 200),
    ("GET", "/provisioned-model-throughputs", M(ListProvisionedModelThroughputs), 200),
    ("PATCH", "/provisioned-model-throughput/{provisionedModelId}", M(UpdateProvisionedModelThroughput), 200),
    ("POST", "/model-import-jobs", NotEmulated("CreateModelImportJob"), 201),
    ("DELETE", "/imported-models/{modelIdentifier}", NotEmulated("DeleteImportedModel"), 200),
    ("GET", "/imported-models/{modelIdentifier}", NotEmulated("GetImportedModel"), 200),
    ("GET", "/model-import-jobs/{jobIdentifier}", NotEmulated("GetModelImportJob"), 200),
    ("GET", "/imported-models", NotEmulated("ListImportedModels"), 200),
    ("GET", "/model-import-jobs", NotEmulated("ListModelImportJobs"), 200),
    ("POST", "/model-copy-jobs", NotEmulated("CreateModelCopyJob"), 201),
    ("GET", "/model-copy-jobs/{jobArn}", NotEmulated("GetModelCopyJob"), 200),
    ("GET", "/model-copy-jobs", NotEmulated("ListModelCopyJobs"), 200),
    ("POST", "/model-invocation-job", NotEmulated("CreateModelInvocationJob"), 200),
    ("GET", "/model-invocation-job/{jobIdentifier}", NotEmulated("GetModelInvocationJob"), 200),
    ("GET", "/model-invocation-jobs", NotEmulated("ListModelInvocationJobs"), 200),
    ("POST", "/model-invocation-job/{jobIdentifier}/stop", NotEmulated("StopModelInvocationJob"), 200),
    ("POST", "/evaluation-jobs/batch-delete", NotEmulated("BatchDeleteEvaluationJob"), 202),
    ("POST", "/evaluation-jobs", NotEmulated("CreateEvaluationJob"), 202),
    ("GET", "/evaluation-jobs/{jobIdentifier}", NotEmulated("GetEvaluationJob"), 200),
    ("GET", "/evaluation-jobs", NotEmulated("ListEvaluationJobs"), 200),
    ("POST", "/evaluation-job/{jobIdentifier}/stop", NotEmulated("StopEvaluationJob"), 200),
    ("POST", "/prompt-routers", NotEmulated("CreatePromptRouter"), 200),
    ("DELETE", "/prompt-routers/{promptRouterArn}", NotEmulated("DeletePromptRouter"), 200),
    ("GET", "/prompt-routers/{promptRouterArn}", NotEmulated("GetPromptRouter"), 200),
    ("GET", "/prompt-routers", NotEmulated("ListPromptRouters"), 200),
    ("POST", "/marketplace-model/endpoints", NotEmulated("CreateMarketplaceModelEndpoint"), 200),
    ("DELETE", "/marketplace-model/endpoints/{endpointArn}", NotEmulated("DeleteMarketplaceModelEndpoint"), 200),
    ("DELETE", "/marketplace-model/endpoints/{endpointArn}/registration", NotEmulated("DeregisterMarketplaceModelEndpoint"), 200),
    ("GET", "/marketplace-model/endpoints/{endpointArn}", NotEmulated("GetMarketplaceModelEndpoint"), 200),
    ("GET", "/marketplace-model/endpoints", NotEmulated("ListMarketplaceModelEndpoints"), 200),
    ("POST", "/marketplace-model/endpoints/{endpointIdentifier}/registration", NotEmulated("RegisterMarketplaceModelEndpoint"), 200),
    ("PATCH", "/marketplace-model/endpoints/{endpointArn}", NotEmulated("UpdateMarketplaceModelEndpoint"), 200),
    ("DELETE", "/resource-policy/{resourceArn}", NotEmulated("DeleteResourcePolicy"), 200),
    ("GET", "/resource-policy/{resourceArn}", NotEmulated("GetResourcePolicy"), 200),
    ("POST", "/resource-policy", NotEmulated("PutResourcePolicy"), 201),
    ("POST", "/automated-reasoning-policies/{policyArn}/build-workflows/{buildWorkflowId}/cancel", NotEmulated("CancelAutomatedReasoningPolicyBuildWorkflow"), 202),
    ("POST", "/automated-reasoning-policies", NotEmulated("CreateAutomatedReasoningPolicy"), 200),
    ("POST", "/automated-reasoning-policies/{policyArn}/test-cases", NotEmulated("CreateAutomatedReasoningPolicyTestCase"), 200),
    ("POST", "/automated-reasoning-policies/{policyArn}/versions", NotEmulated("CreateAutomatedReasoningPolicyVersion"), 200),
    ("DELETE", "/automated-reasoning-policies/{policyArn}", NotEmulated("DeleteAutomatedReasoningPolicy"), 202),
    ("DELETE", "/automated-reasoning-policies/{policyArn}/build-workflows/{buildWorkflowId}", NotEmulated("DeleteAutomatedReasoningPolicyBuildWorkflow"), 202),
    ("DELETE", "/automated-reasoning-policies/{policyArn}/test-cases/{testCaseId}", NotEmulated("DeleteAutomatedReasoningPolicyTestCase"), 202),
    ("GET", "/automated-reasoning-policies/{policyArn}/export", NotEmulated("ExportAutomatedReasoningPolicyVersion"), 200),
    ("GET", "/automated-reasoning-policies/{policyArn}", NotEmulated("GetAutomatedReasoningPolicy"), 200),
    ("GET", "/automated-reasoning-policies/{policyArn}/build-workflows/{buildWorkflowId}/annotations", NotEmulated("GetAutomatedReasoningPolicyAnnotations"), 200),
    ("GET", "/automated-reasoning-policies/{policyArn}/build-workflows/{buildWorkflowId}", NotEmulated("GetAutomatedReasoningPolicyBuildWorkflow"), 200),
    ("GET", "/automated-reasoning-policies/{policyArn}/build-workflows/{buildWorkflowId}/result-assets", NotEmulated("GetAutomatedReasoningPolicyBuildWorkflowResultAssets"), 200),
    ("GET", "/automated-reasoning-policies/{policyArn}/build-workflows/{buildWorkflowId}/scenarios", NotEmulated("GetAutomatedReasoningPolicyNextScenario"), 200),
    ("GET", "/automated-reasoning-policies/{policyArn}/test-cases/{testCaseId}", NotEmulated("GetAutomatedReasoningPolicyTestCase"), 200),
    ("GET", "/automated-reasoning-policies/{policyArn}/build-workflows/{buildWorkflowId}/test-cases/{testCaseId}/test-results", NotEmulated("GetAutomatedReasoningPolicyTestResult"), 200),
    ("GET", "/automated-reasoning-policies", NotEmulated("ListAutomatedReasoningPolicies"), 200),
    ("GET", "/automated-reasoning-policies/{policyArn}/build-workflows", NotEmulated("ListAutomatedReasoningPolicyBuildWorkflows"), 200),
    ("GET", "/automated-reasoning-policies/{policyArn}/test-cases", NotEmulated("ListAutomatedReasoningPolicyTestCases"), 200),
    ("GET", "/automated-reasoning-policies/{policyArn}/build-workflows/{buildWorkflowId}/test-results", NotEmulated("ListAutomatedReasoningPolicyTestResults"), 200),
    ("POST", "/automated-reasoning-policies/{policyArn}/build-workflows/{buildWorkflowType}/start", NotEmulated("StartAutomatedReasoningPolicyBuildWorkflow"), 200),
    ("POST", "/automated-reasoning-policies/{policyArn}/build-workflows/{buildWorkflowId}/test-workflows", NotEmulated("StartAutomatedReasoningPolicyTestWorkflow"), 200),
    ("PATCH", "/automated-reasoning-policies/{policyArn}", NotEmulated("UpdateAutomatedReasoningPolicy"), 200),
    ("PATCH", "/automated-reasoning-policies/{policyArn}/build-workflows/{buildWorkflowId}/annotations", NotEmulated("UpdateAutomatedReasoningPolicyAnnotations"), 200),
    ("PATCH", "/automated-reasoning-policies/{policyArn}/test-cases/{testCaseId}", NotEmulated("UpdateAutomatedReasoningPolicyTestCase"), 200),
    ("POST", "/advanced-prompt-optimization-job/batch-delete", NotEmulated("BatchDeleteAdvancedPromptOptimizationJob"), 202),
    ("POST", "/advanced-prompt-optimization-jobs", NotEmulated("CreateAdvancedPromptOptimizationJob"), 200),
    ("GET", "/advanced-prompt-optimization-jobs/{jobIdentifier}", NotEmulated("GetAdvancedPromptOptimizationJob"), 200),
    ("GET", "/advanced-prompt-optimization-jobs", NotEmulated("ListAdvancedPromptOptimizationJobs"), 200),
    ("POST", "/advanced-prompt-optimization-jobs/{jobIdentifier}/stop", NotEmulated("StopAdvancedPromptOptimizationJob"), 200),
    ("DELETE", "/v1/data_retention/storage/{modelProvider}", NotEmulated("DeleteAccountDataRetentionStorage"), 200),
    ("DELETE", "/v1/data_retention/organization-storage/{modelProvider}", NotEmulated("DeleteOrganizationDataRetentionStorage"), 200),
    ("DELETE", "/v1/projects/{projectIdentifier}/data_retention/storage/{modelProvider}", NotEmulated("DeleteProjectDataRetentionStorage"), 200),
    ("GET", "/data-retention", NotEmulated("GetAccountDataRetention"), 200),
    ("GET", "/v1/data_retention/storage/{modelProvider}", NotEmulated("GetAccountDataRetentionStorage"), 200),
    ("GET", "/v1/data_retention/organization-storage/{modelProvider}", NotEmulated("GetOrganizationDataRetentionStorage"), 200),
    ("GET", "/v1/projects/{projectIdentifier}/data_retention/storage/{modelProvider}", NotEmulated("GetProjectDataRetentionStorage"), 200),
    ("PUT", "/data-retention", NotEmulated("PutAccountDataRetention"), 200),
    ("PUT", "/v1/data_retention/storage/{modelProvider}", NotEmulated("PutAccountDataRetentionStorage"), 200),
    ("PUT", "/v1/data_retention/organization-storage/{modelProvider}", NotEmulated("PutOrganizationDataRetentionStorage"), 200),
    ("PUT", "/v1/projects/{projectIdentifier}/data_retention/storage/{modelProvider}", NotEmulated("PutProjectDataRetentionStorage"), 200),
    ("GET", "/trusted-access-programs/{programIdentifier}", NotEmulated("GetTrustedAccessProgram"), 200),
    ("GET", "/trusted-access-programs/{programIdentifier}/account-enrollment", NotEmulated("GetTrustedAccessProgramAccountEnrollment"), 200),
    ("GET", "/trusted-access-programs/{programIdentifier}/organization-enrollment", NotEmulated("GetTrustedAccessProgramOrganizationEnrollment"), 200),
    ("GET", "/trusted-access-programs/{programIdentifier}/project-enrollment/{projectIdentifier}", NotEmulated("GetTrustedAccessProgramProjectEnrollment"), 200),
    ("GET", "/trusted-access-programs", NotEmulated("ListTrustedAccessPrograms"), 200),
    ("PUT", "/trusted-access-programs/{programIdentifier}/account-enrollment", NotEmulated("PutTrustedAccessProgramAccountEnrollment"), 200),
    ("PUT", "/trusted-access-programs/{programIdentifier}/organization-enrollment", NotEmulated("PutTrustedAccessProgramOrganizationEnrollment"), 200),
    ("PUT", "/trusted-access-programs/{programIdentifier}/project-enrollment/{projectIdentifier}", NotEmulated("PutTrustedAccessProgramProjectEnrollment"), 200),
    ("POST", "/trusted-access-programs/{programIdentifier}/account-application", NotEmulated("StartTrustedAccessProgramAccountApplication"), 200),
    ("POST", "/trusted-access-programs/{programIdentifier}/organization-application", NotEmulated("StartTrustedAccessProgramOrganizationApplication"), 200),
    ("POST", "/trusted-access-programs/{programIdentifier}/project-application/{projectIdentifier}", NotEmulated("StartTrustedAccessProgramProjectApplication"), 200),
    ("POST", "/projects/{projectIdentifier}/archive", NotEmulated("ArchiveProject"), 200),
    ("POST", "/projects", NotEmulated("CreateProject"), 200),
    ("GET", "/projects/{projectIdentifier}", NotEmulated("GetProject"), 200),
    ("GET", "/projects", NotEmulated("ListProjects"), 200),
    ("POST", "/projects/{projectIdentifier}", NotEmulated("UpdateProject"), 200),
    // The product page's tag paths, besides the SDKs' `POST /tagResource` & co.
    ("POST", "/tags/{resourceARN+}", M(TagResource), 200),
    ("DELETE", "/tags/{resourceARN+}", M(UntagResource), 200),
    ("GET", "/tags/{resourceARN+}", M(ListTagsForResource), 200),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// README's endpoint tables are the user's reference: each runtime operation and each of
    /// awsim's own endpoints is listed as `METHOD /path`.
    #[test]
    fn every_runtime_and_awsim_endpoint_is_listed_in_the_readme() {
        let readme = include_str!("../README.md");
        for (method, path, operation, _) in OPERATIONS {
            if matches!(operation, R(_) | A(_)) {
                let row = format!("`{method} {}`", path.replace("+}", "}"));
                assert!(readme.contains(&row), "README does not list {row}");
            }
        }
    }
}
