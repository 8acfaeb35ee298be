/** Where the env shim finds the Cache API's stub in a loaded Worker's env (cache-binding.ts). */
export const CACHE_ENV_KEY = "__CBO_CACHE";
