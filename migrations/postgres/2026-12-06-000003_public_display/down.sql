DROP TABLE public_displays;
