// `unmount`: the overlay, then its base bind (idempotent); a busy mount fails naming its holders.
export { unmountOverlay } from '../mount/unmount.js';
