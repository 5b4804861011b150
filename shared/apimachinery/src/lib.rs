//! flux-apimachinery
