# Literal numpy transcription of Wan's FlowUniPCMultistepScheduler (wan/utils/fm_solvers_unipc.py: predict_x0,
# bh2, order 2, lower_order_final, corrector from step 1), float64, on the closed-form Gaussian velocity
# field of flow-fields.test-helper.ts (mu 0.6, s 0.25). It produced the golden values in unipc.test.ts:
#   python3 unipc_reference.py 6 5 ; python3 unipc_reference.py 50 5
import numpy as np, json, sys
N = int(sys.argv[1]); shift = float(sys.argv[2])
mu, s = 0.6, 0.25
class Sched:
    def __init__(self, N, shift, order=2):
        alphas = np.linspace(1, 1/1000, 1000)[::-1].copy(); sig = (1.0 - alphas).astype(np.float32)
        smax = float(sig[0]); smin = float(sig[-1])
        sigmas = np.linspace(smax, smin, N+1).copy()[:-1]
        sigmas = shift*sigmas/(1+(shift-1)*sigmas)
        self.timesteps = (sigmas*1000).astype(np.int64)
        self.sigmas = np.concatenate([sigmas, [0]]).astype(np.float32).astype(np.float64)
        self.order = order; self.model_outputs = [None]*order; self.lower_order_nums = 0; self.last_sample = None; self.step_index = 0
    def lam(self, sg):
        with np.errstate(divide='ignore'): return np.log(1-sg) - np.log(sg)
    def coeffs(self, h, rks, order):
        rks = np.array(rks + [1.0]); hh = -h; h_phi_1 = np.expm1(hh); h_phi_k = h_phi_1/hh - 1; fact = 1; B_h = np.expm1(hh)
        R = []; b = []
        for i in range(1, order+1):
            R.append(rks**(i-1)); b.append(h_phi_k*fact/B_h); fact *= i+1; h_phi_k = h_phi_k/hh - 1/fact
        return h_phi_1, B_h, np.stack(R), np.array(b)
    def uni_p(self, x, order):
        m0 = self.model_outputs[-1]; i = self.step_index
        st, s0 = self.sigmas[i+1], self.sigmas[i]; at = 1-st
        with np.errstate(divide='ignore', invalid='ignore'):
            h = self.lam(st) - self.lam(s0)
            rks=[]; D1s=[]
            for k in range(1, order):
                mi = self.model_outputs[-(k+1)]; rk = (self.lam(self.sigmas[i-k]) - self.lam(s0))/h; rks.append(rk); D1s.append((mi-m0)/rk)
            h_phi_1, B_h, R, b = self.coeffs(h, rks, order)
            x_t_ = st/s0*x - at*h_phi_1*m0
            pred_res = 0.5*D1s[0] if order == 2 else (np.linalg.solve(R[:-1,:-1], b[:-1]) @ np.stack(D1s) if D1s else 0)
            return x_t_ - at*B_h*pred_res
    def uni_c(self, mt, last, order):
        m0 = self.model_outputs[-1]; i = self.step_index
        st, s0 = self.sigmas[i], self.sigmas[i-1]; at = 1-st
        h = self.lam(st) - self.lam(s0); rks=[]; D1s=[]
        for k in range(1, order):
            mi = self.model_outputs[-(k+1)]; rk = (self.lam(self.sigmas[i-(k+1)]) - self.lam(s0))/h; rks.append(rk); D1s.append((mi-m0)/rk)
        h_phi_1, B_h, R, b = self.coeffs(h, rks, order)
        rhos = np.array([0.5]) if order == 1 else np.linalg.solve(R, b)
        corr = (rhos[:-1] @ np.stack(D1s)) if D1s else 0
        return st/s0*last - at*h_phi_1*m0 - at*B_h*(corr + rhos[-1]*(mt-m0))
    def step(self, v, sample):
        i = self.step_index
        m = sample - self.sigmas[i]*v
        if i > 0 and self.last_sample is not None: sample = self.uni_c(m, self.last_sample, self.this_order)
        self.model_outputs = self.model_outputs[1:] + [m]
        this_order = min(self.order, len(self.timesteps) - i)
        self.this_order = min(this_order, self.lower_order_nums + 1)
        self.last_sample = sample
        prev = self.uni_p(sample, self.this_order)
        if self.lower_order_nums < self.order: self.lower_order_nums += 1
        self.step_index += 1
        return prev, m
V = lambda sg: (1-sg)**2*s*s + sg*sg
vel = lambda x, sg: (sg - (1-sg)*s*s)/V(sg)*(x - (1-sg)*mu) - mu
sch = Sched(N, shift)
x = np.array([-1.7, -0.4, 0.3, 1.2, 2.1]); traj = []
for i in range(N):
    x, m = sch.step(vel(x, sch.sigmas[i]), x); traj.append({'x': x.tolist(), 'm': m.tolist()})
print(json.dumps({'sigmas': sch.sigmas.tolist(), 'timesteps': sch.timesteps.tolist(), 'traj': traj}))
