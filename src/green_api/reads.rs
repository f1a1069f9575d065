//! The account methods `check` and start-up read; they change nothing, so
//! every failure is simply reported.

use tokio::time::{Instant, timeout_at};

use super::transport::Endpoint;
use super::wire::{ErrorCode, Settings, StateInstance};
use super::{GreenApiClient, GreenApiError, InstanceType, Malformed};

impl GreenApiClient {
    /// getStateInstance: whether the instance is authorized to send.
    pub async fn get_state_instance(&self) -> Result<String, GreenApiError> {
        let state: StateInstance = self.get_json("getStateInstance", &self.get_state_instance).await?;
        // While an instance is being created, GREEN-API answers `null`.
        Ok(state.state.unwrap_or_else(|| "unknown".into()))
    }

    /// getSettings: what kind of instance this is.
    pub async fn get_instance_type(&self) -> Result<InstanceType, GreenApiError> {
        let settings: Settings = self.get_json("getSettings", &self.get_settings).await?;
        Ok(InstanceType::from_type_instance(settings.type_instance.as_deref().unwrap_or("")))
    }

    /// GETs an account method and decodes its JSON answer. These methods
    /// change nothing, so every failure is simply reported.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        method: &'static str,
        endpoint: &Endpoint,
    ) -> Result<T, GreenApiError> {
        let answer = match timeout_at(Instant::now() + self.timeout, self.exchange(endpoint, None)).await {
            Err(_) => return Err(GreenApiError::Timeout { after: self.timeout }),
            Ok(answer) => answer?,
        };
        match answer.status.as_u16() {
            200 => {
                // GREEN-API reports bad credentials as HTTP 200 with
                // `{"code":401}` too.
                if let Ok(ErrorCode { code: Some(code @ (401 | 403)) }) = serde_json::from_slice(&answer.body) {
                    return Err(GreenApiError::Unauthorized { status: code });
                }
                serde_json::from_slice(&answer.body)
                    .map_err(|_| GreenApiError::MalformedResponse { detail: Malformed::ReadNotJson { method } })
            }
            status => Err(GreenApiError::from_status(status, &answer.body, self.token.expose())),
        }
    }
}
