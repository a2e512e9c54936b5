//! [`secret_store_through!`](crate::secret_store_through): the [`SecretStore`](super::SecretStore)
//! impl of a wrapper that makes every call of the store it wraps through one method of its own
//! ([`Stoppable`](super::stoppable::Stoppable), which races it with the stop; state-scrubber's
//! `Paced`, which makes it again while throttled). Written once here: each wrapper had the same
//! nineteen methods, differing only in the method they went through.

/// Implements [`SecretStore`](crate::store::SecretStore) for `$ty` (generic:
/// `Paced<S> where [S: SecretStore]`, for `impl<S: SecretStore>`): `region` is `self.$inner`'s, and every call is
/// `self.$through(write, || self.$inner.CALL(ARGS))`, `write` being whether the call changes
/// something in the store. The closure may be called more than once (a call made again): it
/// clones what the call takes by value each time.
///
/// `$through` is a method of `$ty` like
/// `async fn $through<T, F, Fut>(&self, write: bool, f: F) -> Result<T, StoreError>` with
/// `F: FnMut() -> Fut + Send`, `Fut: Future<Output = Result<T, StoreError>> + Send`, `T: Send`.
#[macro_export]
macro_rules! secret_store_through {
    ($ty:ty $(where [$($generics:tt)*])?, $inner:ident, $through:ident) => {
        #[::async_trait::async_trait]
        impl$(<$($generics)*>)? $crate::store::SecretStore for $ty {
            fn region(&self) -> Option<&str> {
                self.$inner.region()
            }

            async fn create(
                &self,
                request: $crate::store::CreateSecret,
            ) -> Result<$crate::store::SecretMeta, $crate::store::StoreError> {
                self.$through(true, || self.$inner.create(request.clone())).await
            }

            async fn describe(
                &self,
                secret_id: &str,
            ) -> Result<Option<$crate::store::SecretMeta>, $crate::store::StoreError> {
                self.$through(false, || self.$inner.describe(secret_id)).await
            }

            async fn list_versions(
                &self,
                secret_id: &str,
            ) -> Result<Vec<$crate::store::VersionInfo>, $crate::store::StoreError> {
                self.$through(false, || self.$inner.list_versions(secret_id)).await
            }

            async fn put_value(
                &self,
                request: $crate::store::PutValue,
            ) -> Result<String, $crate::store::StoreError> {
                self.$through(true, || self.$inner.put_value(request.clone())).await
            }

            async fn get_value(
                &self,
                secret_id: &str,
                version: $crate::store::VersionSelector,
            ) -> Result<$crate::store::FetchedValue, $crate::store::StoreError> {
                self.$through(false, || self.$inner.get_value(secret_id, version.clone()))
                    .await
            }

            async fn update_metadata(
                &self,
                secret_id: &str,
                update: $crate::store::MetadataUpdate,
            ) -> Result<(), $crate::store::StoreError> {
                self.$through(true, || self.$inner.update_metadata(secret_id, update.clone()))
                    .await
            }

            async fn tag(
                &self,
                secret_id: &str,
                tags: &::std::collections::BTreeMap<String, String>,
            ) -> Result<(), $crate::store::StoreError> {
                self.$through(true, || self.$inner.tag(secret_id, tags)).await
            }

            async fn untag(
                &self,
                secret_id: &str,
                keys: &[String],
            ) -> Result<(), $crate::store::StoreError> {
                self.$through(true, || self.$inner.untag(secret_id, keys)).await
            }

            async fn delete(
                &self,
                secret_id: &str,
                deletion: $crate::store::Deletion,
            ) -> Result<(), $crate::store::StoreError> {
                self.$through(true, || self.$inner.delete(secret_id, deletion)).await
            }

            async fn restore(&self, secret_id: &str) -> Result<(), $crate::store::StoreError> {
                self.$through(true, || self.$inner.restore(secret_id)).await
            }

            async fn list(
                &self,
                filter: &$crate::store::ListFilter,
            ) -> Result<Vec<$crate::store::SecretMeta>, $crate::store::StoreError> {
                self.$through(false, || self.$inner.list(filter)).await
            }

            async fn rotate(
                &self,
                secret_id: &str,
                request: $crate::store::RotateRequest,
            ) -> Result<Option<String>, $crate::store::StoreError> {
                self.$through(true, || self.$inner.rotate(secret_id, request.clone()))
                    .await
            }

            async fn cancel_rotation(
                &self,
                secret_id: &str,
            ) -> Result<(), $crate::store::StoreError> {
                self.$through(true, || self.$inner.cancel_rotation(secret_id)).await
            }

            async fn put_policy(
                &self,
                secret_id: &str,
                policy: &str,
                block_public_policy: bool,
            ) -> Result<(), $crate::store::StoreError> {
                self.$through(true, || {
                    self.$inner.put_policy(secret_id, policy, block_public_policy)
                })
                .await
            }

            async fn get_policy(
                &self,
                secret_id: &str,
            ) -> Result<Option<String>, $crate::store::StoreError> {
                self.$through(false, || self.$inner.get_policy(secret_id)).await
            }

            async fn delete_policy(&self, secret_id: &str) -> Result<(), $crate::store::StoreError> {
                self.$through(true, || self.$inner.delete_policy(secret_id)).await
            }

            async fn validate_policy(
                &self,
                secret_id: Option<&str>,
                policy: &str,
            ) -> Result<Vec<$crate::store::PolicyValidationError>, $crate::store::StoreError> {
                self.$through(false, || self.$inner.validate_policy(secret_id, policy))
                    .await
            }

            async fn replicate(
                &self,
                secret_id: &str,
                replicas: &[$crate::store::Replica],
                force_overwrite: bool,
            ) -> Result<Vec<$crate::store::ReplicaStatus>, $crate::store::StoreError> {
                self.$through(true, || {
                    self.$inner.replicate(secret_id, replicas, force_overwrite)
                })
                .await
            }

            async fn remove_replica_regions(
                &self,
                secret_id: &str,
                regions: &[String],
            ) -> Result<Vec<$crate::store::ReplicaStatus>, $crate::store::StoreError> {
                self.$through(true, || self.$inner.remove_replica_regions(secret_id, regions))
                    .await
            }
        }
    };
}
