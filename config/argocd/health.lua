-- Argo CD health assessment for inference.kubeinfer.dev/InferenceWorker.
-- Reads only what the operator writes in status; see README "GitOps with Argo CD".
-- Keep config/argocd/argocd-cm.yaml in sync with: go run ./hack/argocd-health
local hs = {}

local function condition(ctype)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == ctype then
      return c
    end
  end
  return nil
end

if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local generation = obj.metadata.generation or 0
local observed = obj.status.observedGeneration or 0
if observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

local ready = condition("Ready")
local degraded = condition("Degraded")
local modelLoaded = condition("ModelLoaded")

if (obj.spec ~= nil and obj.spec.suspend == true) or (ready ~= nil and ready.reason == "Suspended") then
  hs.status = "Suspended"
  hs.message = (ready ~= nil and ready.message) or "Suspended"
  return hs
end

if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = degraded.reason .. ": " .. degraded.message
  return hs
end

if modelLoaded ~= nil and modelLoaded.status == "False" and modelLoaded.reason == "ModelLoadFailed" then
  hs.status = "Degraded"
  hs.message = modelLoaded.reason .. ": " .. modelLoaded.message
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

if ready ~= nil and ready.reason == "ScaledToZero" then
  -- Zero replicas was asked for: nothing is wrong and nothing is pending.
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

hs.status = "Progressing"
local progress = obj.status.model ~= nil and obj.status.model.loadProgress or ""
if ready ~= nil and (ready.reason == "ModelDownloading" or ready.reason == "ModelLoading") and progress ~= ""
    and modelLoaded ~= nil and modelLoaded.reason == ready.reason then
  -- A worker reports how far its download or load is: show that, e.g.
  -- "ModelDownloading: Downloading 1.2 of 2.4 GB (50%, 110.0 MB/s, about 11 s left)".
  hs.message = ready.reason .. ": " .. modelLoaded.message
elseif ready ~= nil then
  hs.message = ready.reason .. ": " .. ready.message
else
  hs.message = "Waiting for workers"
end
return hs
